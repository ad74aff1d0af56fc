package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/kycgate/kycgate/shared/contract"
)

// StaffIdentity is who signs staff into the reviewer console (OpenID
// Connect, authorization code with PKCE): by default a Cognito user pool of
// the stack's own, with the groups kyc-reviewers and kyc-admins, TOTP MFA
// required and no self sign-up, and a public app client (no secret) whose
// only callback is the console's; or, with context staffIssuer and
// staffClientId, the provider's own issuer (nothing is created then).
type StaffIdentity struct {
	constructs.Construct
	Pool   awscognito.UserPool       // nil with an issuer of the provider's own
	Client awscognito.UserPoolClient // nil with an issuer of the provider's own
	Domain awscognito.UserPoolDomain // nil with an issuer of the provider's own
	Groups map[string]awscognito.CfnUserPoolGroup
	// Issuer and ClientID are what the console is configured with.
	Issuer, ClientID *string
}

// Token validity of the console's client. The console keeps its own
// session (8 hours idle, 12 at most) and asks again for disclosures; the
// ID token is read once, at the callback.
const (
	staffTokenMinutes  = 60
	staffRefreshHours  = 12
	staffPasswordChars = 14
)

func newStaffIdentity(scope constructs.Construct, id string, cfg Config, publicURL *string) *StaffIdentity {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &StaffIdentity{Construct: c, Groups: map[string]awscognito.CfnUserPoolGroup{}}
	if cfg.StaffIssuer != "" {
		s.Issuer, s.ClientID = jsii.String(cfg.StaffIssuer), jsii.String(cfg.StaffClientID)
		return s
	}
	stack := awscdk.Stack_Of(c)
	s.Pool = awscognito.NewUserPool(c, jsii.String("Pool"), &awscognito.UserPoolProps{
		UserPoolName:        jsii.String(*stack.StackName() + "-staff"),
		SelfSignUpEnabled:   jsii.Bool(false),
		SignInAliases:       &awscognito.SignInAliases{Username: jsii.Bool(true), Email: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		Mfa:                 awscognito.Mfa_REQUIRED,
		MfaSecondFactor:     &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(staffPasswordChars), RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true),
			RequireDigits: jsii.Bool(true), RequireSymbols: jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		AccountRecovery:    awscognito.AccountRecovery_EMAIL_ONLY,
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		FeaturePlan:        awscognito.FeaturePlan_ESSENTIALS,
	})
	plus := jsii.String("Threat protection (advanced security) needs the Plus feature plan, priced per monthly active user; the " +
		"pool has a handful of staff users created by an admin (no self sign-up), TOTP MFA is required for every one, passwords " +
		"are long, and the console asks again before any disclosure step. A provider that wants it sets the feature plan here.")
	cdknag.NagSuppressions_AddResourceSuppressions(s.Pool, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-COG3"), Reason: plus},
		{Id: jsii.String("AwsSolutions-COG8"), Reason: plus},
	}, jsii.Bool(false))
	for _, g := range []string{contract.GroupReviewers, contract.GroupAdmins} {
		s.Groups[g] = awscognito.NewCfnUserPoolGroup(c, jsii.String("Group"+constructID(g)), &awscognito.CfnUserPoolGroupProps{
			UserPoolId:  s.Pool.UserPoolId(),
			GroupName:   jsii.String(g),
			Description: jsii.String("KYC gate: " + g + " (the reviewer console and the admin API check this group)"),
		})
	}
	prefix := cfg.CognitoDomainPrefix
	var domainPrefix *string
	if prefix != "" {
		domainPrefix = jsii.String(prefix)
	} else {
		domainPrefix = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("kycgate-"), stack.Account()})
	}
	s.Domain = s.Pool.AddDomain(jsii.String("Domain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: domainPrefix},
	})
	callback := awscdk.Fn_Join(jsii.String(""), &[]*string{publicURL, jsii.String("/console/callback")})
	console := awscdk.Fn_Join(jsii.String(""), &[]*string{publicURL, jsii.String("/console")})
	s.Client = s.Pool.AddClient(jsii.String("Console"), &awscognito.UserPoolClientOptions{
		UserPoolClientName: jsii.String("kyc-console"),
		GenerateSecret:     jsii.Bool(false), // a public client: the code needs the PKCE verifier
		// SRP and refresh only: no flow that sends a password to the API.
		AuthFlows: &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()},
			CallbackUrls: &[]*string{callback},
			LogoutUrls:   &[]*string{console},
		},
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		PreventUserExistenceErrors: jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Minutes(jsii.Number(staffTokenMinutes)),
		AccessTokenValidity:        awscdk.Duration_Minutes(jsii.Number(staffTokenMinutes)),
		RefreshTokenValidity:       awscdk.Duration_Hours(jsii.Number(staffRefreshHours)),
		EnableTokenRevocation:      jsii.Bool(true),
	})
	// The issuer of the pool's tokens (the "iss" claim), written out rather
	// than taken from ProviderURL, whose scheme CloudFormation's examples
	// disagree about.
	s.Issuer = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://cognito-idp."), stack.Region(),
		jsii.String("."), stack.UrlSuffix(), jsii.String("/"), s.Pool.UserPoolId()})
	s.ClientID = s.Client.UserPoolClientId()
	return s
}
