package stack

import (
	"context"
	"fmt"
	"strings"
)

// AWS::Cognito::UserPool is interpreted, not created: the staff user pool
// signs people in at Cognito's hosted domain, which no emulator serves, so
// the dev server plays the issuer itself (infra/local/dev) and substitutes
// its URL for the pool's in the console's environment. Ref is a pool id in
// Cognito's form; Arn, ProviderName and ProviderURL are attributes.
func applyUserPool(_ context.Context, d *deployer, id string, _ *resource) error {
	poolID := d.st.Region + "_" + strings.ReplaceAll(d.name(nameFunction, id, ""), "-", "")
	if len(poolID) > 55 {
		poolID = poolID[:55]
	}
	provider := fmt.Sprintf("cognito-idp.%s.amazonaws.com/%s", d.st.Region, poolID)
	d.interpreted(id, physical{Ref: poolID, Attrs: map[string]string{
		"Arn": d.arn("cognito-idp", "userpool/"+poolID), "ProviderName": provider, "ProviderURL": "https://" + provider,
		"UserPoolId": poolID,
	}})
	d.note(id, "UserPool", "interpreted: the dev server is the staff issuer locally (GET /local/oidc/.well-known/openid-configuration)")
	return nil
}

// AWS::Cognito::UserPoolClient is interpreted: Ref is a client id.
func applyUserPoolClient(_ context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	name, err := p.str("ClientName")
	if err != nil {
		return err
	}
	clientID := strings.ReplaceAll(d.name(nameFunction, id, ""), "-", "")
	d.interpreted(id, physical{Ref: clientID, Attrs: map[string]string{"ClientId": clientID, "Name": name}})
	return nil
}
