package stack

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// AWS::KMS::Key: a symmetric key, or an HMAC key (KeySpec HMAC_256, KeyUsage
// GENERATE_VERIFY_MAC). Ref is the key id; Arn and KeyId are attributes.
func applyKey(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	spec, err := p.str("KeySpec")
	if err != nil {
		return err
	}
	usage, err := p.str("KeyUsage")
	if err != nil {
		return err
	}
	desc, err := p.str("Description")
	if err != nil {
		return err
	}
	var rotate, multi flexBool
	if _, err := p.decode(&rotate, "EnableKeyRotation"); err != nil {
		return err
	}
	if _, err := p.decode(&multi, "MultiRegion"); err != nil {
		return err
	}
	in := &kms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("kyc:stack"), TagValue: aws.String(d.st.Prefix)}}}
	if desc != "" {
		in.Description = &desc
	}
	if spec != "" {
		in.KeySpec = types.KeySpec(spec)
	}
	if usage != "" {
		in.KeyUsage = types.KeyUsageType(usage)
	}
	if multi {
		in.MultiRegion = aws.Bool(true)
	}
	out, err := d.c.kms.CreateKey(ctx, in)
	if err != nil {
		return err
	}
	keyID, arn := aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
	d.created(id, physical{Ref: keyID, Attrs: map[string]string{"Arn": arn, "KeyId": keyID}})
	if rotate {
		if _, err := d.c.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &keyID}); err != nil {
			d.note(id, "EnableKeyRotation", "the emulator refused it: "+err.Error())
		}
	}
	if p.has("KeyPolicy") {
		p.read["KeyPolicy"] = true
		d.note(id, "KeyPolicy", "key policies are not evaluated by the emulator; the CDK assertion tests prove them")
	}
	var enabled flexBool = true
	if _, err := p.decode(&enabled, "Enabled"); err != nil {
		return err
	}
	if !enabled {
		if _, err := d.c.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &keyID}); err != nil {
			return err
		}
	}
	p.read["PendingWindowInDays"] = true // applies at deletion; Destroy uses the minimum
	p.unread("not applied on the emulator", "Tags", "KeyPolicy", "BypassPolicyLockoutSafetyCheck", "RotationPeriodInDays")
	return nil
}

// A key cannot be deleted at once; it is scheduled for deletion after the
// shortest window (7 days), which makes it unusable immediately.
func destroyKey(ctx context.Context, c *clients, res Resource) error {
	_, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(res.PhysicalID), PendingWindowInDays: aws.Int32(7)})
	if err != nil && strings.Contains(err.Error(), "pending deletion") {
		return nil
	}
	return err
}

// AWS::KMS::Alias: alias/<prefix>-<logical id>, pointing at the key.
func applyAlias(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	target, err := p.str("TargetKeyId")
	if err != nil {
		return err
	}
	p.read["AliasName"] = true // the local name derives from the prefix
	name := "alias/" + d.name(nameAlias, id, "")
	if _, err := d.c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &name, TargetKeyId: &target}); err != nil {
		return err
	}
	d.created(id, physical{Ref: name, Attrs: map[string]string{"AliasName": name}})
	p.unread("not applied on the emulator")
	return nil
}

func destroyAlias(ctx context.Context, c *clients, res Resource) error {
	_, err := c.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(res.PhysicalID)})
	return err
}
