package stack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// AWS::SecretsManager::Secret: named <prefix>-<logical id>, with its
// SecretString, or a value generated as GenerateSecretString describes. Ref
// and Id are the ARN.
func applySecret(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	p.read["Name"] = true
	value, err := p.str("SecretString")
	if err != nil {
		return err
	}
	var gen *generateSpec
	if _, err := p.decode(&gen, "GenerateSecretString"); err != nil {
		return err
	}
	if gen != nil {
		if value, err = gen.generate(); err != nil {
			return fmt.Errorf("Properties.GenerateSecretString: %w", err)
		}
	}
	name := d.name(nameSecret, id, "")
	in := &secretsmanager.CreateSecretInput{Name: &name}
	if value != "" {
		in.SecretString = &value
	}
	if desc, err := p.str("Description"); err != nil {
		return err
	} else if desc != "" {
		in.Description = &desc
	}
	var arn string
	out, err := d.c.secrets.CreateSecret(ctx, in)
	var exists *smtypes.ResourceExistsException
	switch {
	case errors.As(err, &exists): // our own retried request made it (the name is this deployment's)
		desc, err := d.c.secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &name})
		if err != nil {
			return err
		}
		arn = aws.ToString(desc.ARN)
	case err != nil:
		return err
	default:
		arn = aws.ToString(out.ARN)
	}
	d.created(id, physical{Ref: arn, Attrs: map[string]string{"Id": arn, "Arn": arn, "Name": name}})
	if p.has("KmsKeyId") {
		p.read["KmsKeyId"] = true
		d.note(id, "KmsKeyId", "secrets are not encrypted by the emulator")
	}
	p.unread("not applied on the emulator", "Tags")
	return nil
}

func destroySecret(ctx context.Context, c *clients, res Resource) error {
	_, err := c.secrets.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(res.PhysicalID), ForceDeleteWithoutRecovery: aws.Bool(true)})
	return err
}

// generateSpec is CloudFormation's GenerateSecretString.
type generateSpec struct {
	SecretStringTemplate    string
	GenerateStringKey       string
	ExcludeCharacters       string
	ExcludeLowercase        flexBool
	ExcludeUppercase        flexBool
	ExcludeNumbers          flexBool
	ExcludePunctuation      flexBool
	IncludeSpace            flexBool
	PasswordLength          *flexInt
	RequireEachIncludedType *flexBool
}

const punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// generate returns a random password as Secrets Manager would make it, put
// under GenerateStringKey in SecretStringTemplate when both are given.
func (g generateSpec) generate() (string, error) {
	length := 32
	if g.PasswordLength != nil {
		length = int(*g.PasswordLength)
	}
	if length < 1 || length > 4096 {
		return "", fmt.Errorf("PasswordLength %d out of range", length)
	}
	keep := func(set string) string {
		var b strings.Builder
		for _, r := range set {
			if !strings.ContainsRune(g.ExcludeCharacters, r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	var classes []string
	add := func(exclude flexBool, set string) {
		if !exclude {
			if s := keep(set); s != "" {
				classes = append(classes, s)
			}
		}
	}
	add(g.ExcludeLowercase, "abcdefghijklmnopqrstuvwxyz")
	add(g.ExcludeUppercase, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	add(g.ExcludeNumbers, "0123456789")
	add(g.ExcludePunctuation, punctuation)
	add(!g.IncludeSpace, " ")
	if len(classes) == 0 {
		return "", errors.New("every character is excluded")
	}
	requireEach := g.RequireEachIncludedType == nil || bool(*g.RequireEachIncludedType)
	if requireEach && length < len(classes) {
		return "", fmt.Errorf("PasswordLength %d cannot include all %d character types", length, len(classes))
	}
	all := strings.Join(classes, "")
	out := make([]byte, 0, length)
	if requireEach {
		for _, c := range classes {
			out = append(out, pick(c))
		}
	}
	for len(out) < length {
		out = append(out, pick(all))
	}
	// Shuffle, so the required characters are not always first.
	for i := len(out) - 1; i > 0; i-- {
		j := randInt(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	password := string(out)
	if g.SecretStringTemplate == "" || g.GenerateStringKey == "" {
		return password, nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(g.SecretStringTemplate), &obj); err != nil {
		return "", fmt.Errorf("SecretStringTemplate: %w", err)
	}
	obj[g.GenerateStringKey] = password
	b, err := json.Marshal(obj)
	return string(b), err
}

func pick(set string) byte { return set[randInt(len(set))] }

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int(v.Int64())
}
