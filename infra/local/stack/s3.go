package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Why the bucket settings the emulator does not get are left out.
const (
	reasonBucketPolicy = "not applied on the emulator: moto refuses every object request under a Deny whose condition is not StringEquals (the TLS-only statement); the CDK assertion tests prove the policy"
	reasonPublicAccess = "moto does not enforce public access blocks; the CDK assertion tests prove them"
	reasonOwnership    = "object ownership is not enforced by the emulator; the CDK assertion tests prove it"
	reasonLogging      = "server access logging is not produced by the emulator"
)

// AWS::S3::Bucket: named <prefix>-<logical id> (lowercase, at most 63), with
// its default encryption (SSE-KMS key and bucket key), versioning, lifecycle
// rules, CORS rules and, if given inline, notifications. Ref is the name;
// Arn, DomainName and RegionalDomainName are attributes.
func applyBucket(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	name := d.name(nameBucket, id, "")
	in := &s3.CreateBucketInput{Bucket: &name}
	if d.st.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(d.st.Region)}
	}
	var owned *types.BucketAlreadyOwnedByYou // our own retried request made it
	if _, err := d.c.s3.CreateBucket(ctx, in); err != nil && !errors.As(err, &owned) {
		return err
	}
	d.created(id, physical{Ref: name, Attrs: map[string]string{
		"Arn":                "arn:aws:s3:::" + name,
		"DomainName":         name + ".s3.amazonaws.com",
		"RegionalDomainName": name + ".s3." + d.st.Region + ".amazonaws.com",
	}})

	var enc struct {
		ServerSideEncryptionConfiguration []struct {
			BucketKeyEnabled              *flexBool
			ServerSideEncryptionByDefault *struct {
				SSEAlgorithm   string
				KMSMasterKeyID string
			}
		}
	}
	if ok, err := p.decode(&enc, "BucketEncryption"); err != nil {
		return err
	} else if ok {
		var rules []types.ServerSideEncryptionRule
		for _, e := range enc.ServerSideEncryptionConfiguration {
			var rule types.ServerSideEncryptionRule
			if e.BucketKeyEnabled != nil {
				rule.BucketKeyEnabled = aws.Bool(bool(*e.BucketKeyEnabled))
			}
			if def := e.ServerSideEncryptionByDefault; def != nil {
				rule.ApplyServerSideEncryptionByDefault = &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryption(def.SSEAlgorithm)}
				if def.KMSMasterKeyID != "" {
					rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(def.KMSMasterKeyID)
				}
			}
			rules = append(rules, rule)
		}
		if _, err := d.c.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket:                            &name,
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: rules},
		}); err != nil {
			return fmt.Errorf("Properties.BucketEncryption: %w", err)
		}
	}

	var ver struct{ Status string }
	if ok, err := p.decode(&ver, "VersioningConfiguration"); err != nil {
		return err
	} else if ok {
		if _, err := d.c.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  &name,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatus(ver.Status)},
		}); err != nil {
			return fmt.Errorf("Properties.VersioningConfiguration: %w", err)
		}
	}

	var lc struct{ Rules []cfnLifecycleRule }
	if ok, err := p.decode(&lc, "LifecycleConfiguration"); err != nil {
		return err
	} else if ok {
		rules := make([]types.LifecycleRule, 0, len(lc.Rules))
		for i, cr := range lc.Rules {
			rule, err := cr.sdk()
			if err != nil {
				return fmt.Errorf("Properties.LifecycleConfiguration.Rules[%d]: %w", i, err)
			}
			rules = append(rules, rule)
		}
		if _, err := d.c.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
			Bucket:                 &name,
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules},
		}); err != nil {
			return fmt.Errorf("Properties.LifecycleConfiguration: %w", err)
		}
	}

	var cors struct {
		CorsRules []struct {
			Id             string
			AllowedHeaders []string
			AllowedMethods []string
			AllowedOrigins []string
			ExposedHeaders []string
			MaxAge         *flexInt
		}
	}
	if ok, err := p.decode(&cors, "CorsConfiguration"); err != nil {
		return err
	} else if ok {
		var rules []types.CORSRule
		for _, c := range cors.CorsRules {
			rule := types.CORSRule{AllowedHeaders: c.AllowedHeaders, AllowedMethods: c.AllowedMethods, AllowedOrigins: c.AllowedOrigins, ExposeHeaders: c.ExposedHeaders}
			if c.Id != "" {
				rule.ID = aws.String(c.Id)
			}
			if c.MaxAge != nil {
				rule.MaxAgeSeconds = aws.Int32(int32(*c.MaxAge))
			}
			rules = append(rules, rule)
		}
		if _, err := d.c.s3.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &name, CORSConfiguration: &types.CORSConfiguration{CORSRules: rules}}); err != nil {
			return fmt.Errorf("Properties.CorsConfiguration: %w", err)
		}
	}

	if p.has("NotificationConfiguration") {
		nc, err := inlineNotifications(p)
		if err != nil {
			return err
		}
		if err := putNotifications(ctx, d, id, name, nc); err != nil {
			return fmt.Errorf("Properties.NotificationConfiguration: %w", err)
		}
	}

	for _, n := range []struct{ prop, reason string }{
		{"PublicAccessBlockConfiguration", reasonPublicAccess},
		{"OwnershipControls", reasonOwnership},
		{"LoggingConfiguration", reasonLogging},
	} {
		if p.has(n.prop) {
			p.read[n.prop] = true
			d.note(id, n.prop, n.reason)
		}
	}
	p.unread("not applied on the emulator", "Tags", "BucketName")
	return nil
}

// cfnLifecycleRule is a lifecycle rule in CloudFormation's shape.
type cfnLifecycleRule struct {
	Id                                string
	Status                            string
	Prefix                            *string
	TagFilters                        []struct{ Key, Value string }
	ObjectSizeGreaterThan             *flexInt
	ObjectSizeLessThan                *flexInt
	ExpirationInDays                  *flexInt
	ExpirationDate                    string
	ExpiredObjectDeleteMarker         *flexBool
	NoncurrentVersionExpirationInDays *flexInt
	NoncurrentVersionExpiration       *struct {
		NoncurrentDays          flexInt
		NewerNoncurrentVersions *flexInt
	}
	AbortIncompleteMultipartUpload *struct{ DaysAfterInitiation flexInt }
	Transitions                    []struct {
		StorageClass     string
		TransitionInDays *flexInt
		TransitionDate   string
	}
	NoncurrentVersionTransitions []struct {
		StorageClass            string
		TransitionInDays        flexInt
		NewerNoncurrentVersions *flexInt
	}
}

func i32(f *flexInt) *int32 {
	if f == nil {
		return nil
	}
	return aws.Int32(int32(*f))
}

func i64(f *flexInt) *int64 {
	if f == nil {
		return nil
	}
	return aws.Int64(int64(*f))
}

func (c cfnLifecycleRule) sdk() (types.LifecycleRule, error) {
	rule := types.LifecycleRule{Status: types.ExpirationStatus(c.Status)}
	if c.Id != "" {
		rule.ID = aws.String(c.Id)
	}
	// The filter: a single condition stands alone, several go under And.
	var tags []types.Tag
	for _, t := range c.TagFilters {
		tags = append(tags, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	conds := len(tags)
	if c.Prefix != nil {
		conds++
	}
	if c.ObjectSizeGreaterThan != nil {
		conds++
	}
	if c.ObjectSizeLessThan != nil {
		conds++
	}
	f := &types.LifecycleRuleFilter{}
	switch {
	case conds > 1:
		f.And = &types.LifecycleRuleAndOperator{Prefix: c.Prefix, Tags: tags, ObjectSizeGreaterThan: i64(c.ObjectSizeGreaterThan), ObjectSizeLessThan: i64(c.ObjectSizeLessThan)}
	case len(tags) == 1:
		f.Tag = &tags[0]
	case c.ObjectSizeGreaterThan != nil:
		f.ObjectSizeGreaterThan = i64(c.ObjectSizeGreaterThan)
	case c.ObjectSizeLessThan != nil:
		f.ObjectSizeLessThan = i64(c.ObjectSizeLessThan)
	default:
		f.Prefix = aws.String(aws.ToString(c.Prefix))
	}
	rule.Filter = f

	if c.ExpirationInDays != nil || c.ExpirationDate != "" || c.ExpiredObjectDeleteMarker != nil {
		e := &types.LifecycleExpiration{Days: i32(c.ExpirationInDays)}
		if c.ExpirationDate != "" {
			t, err := time.Parse(time.RFC3339, c.ExpirationDate)
			if err != nil {
				return rule, fmt.Errorf("ExpirationDate: %w", err)
			}
			e.Date = &t
		}
		if c.ExpiredObjectDeleteMarker != nil {
			e.ExpiredObjectDeleteMarker = aws.Bool(bool(*c.ExpiredObjectDeleteMarker))
		}
		rule.Expiration = e
	}
	if n := c.NoncurrentVersionExpiration; n != nil {
		rule.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(int32(n.NoncurrentDays)), NewerNoncurrentVersions: i32(n.NewerNoncurrentVersions)}
	} else if c.NoncurrentVersionExpirationInDays != nil {
		rule.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{NoncurrentDays: i32(c.NoncurrentVersionExpirationInDays)}
	}
	if a := c.AbortIncompleteMultipartUpload; a != nil {
		rule.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(a.DaysAfterInitiation))}
	}
	for _, t := range c.Transitions {
		tr := types.Transition{StorageClass: types.TransitionStorageClass(t.StorageClass), Days: i32(t.TransitionInDays)}
		if t.TransitionDate != "" {
			d, err := time.Parse(time.RFC3339, t.TransitionDate)
			if err != nil {
				return rule, fmt.Errorf("TransitionDate: %w", err)
			}
			tr.Date = &d
		}
		rule.Transitions = append(rule.Transitions, tr)
	}
	for _, t := range c.NoncurrentVersionTransitions {
		rule.NoncurrentVersionTransitions = append(rule.NoncurrentVersionTransitions, types.NoncurrentVersionTransition{
			StorageClass: types.TransitionStorageClass(t.StorageClass), NoncurrentDays: aws.Int32(int32(t.TransitionInDays)), NewerNoncurrentVersions: i32(t.NewerNoncurrentVersions),
		})
	}
	return rule, nil
}

// inlineNotifications converts a bucket's NotificationConfiguration property
// (CloudFormation's shape: Event, Queue, Filter.S3Key.Rules) to the API's.
func inlineNotifications(p *props) (types.NotificationConfiguration, error) {
	type cfnFilter struct {
		S3Key struct {
			Rules []struct{ Name, Value string }
		}
	}
	var cfn struct {
		QueueConfigurations []struct {
			Event  string
			Queue  string
			Filter *cfnFilter
		}
		TopicConfigurations []struct {
			Event  string
			Topic  string
			Filter *cfnFilter
		}
		LambdaConfigurations     []struct{ Event, Function string }
		EventBridgeConfiguration *struct{ EventBridgeEnabled flexBool }
	}
	var nc types.NotificationConfiguration
	if _, err := p.decode(&cfn, "NotificationConfiguration"); err != nil {
		return nc, err
	}
	filter := func(f *cfnFilter) *types.NotificationConfigurationFilter {
		if f == nil {
			return nil
		}
		var rules []types.FilterRule
		for _, r := range f.S3Key.Rules {
			rules = append(rules, types.FilterRule{Name: types.FilterRuleName(r.Name), Value: aws.String(r.Value)})
		}
		return &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: rules}}
	}
	for _, q := range cfn.QueueConfigurations {
		nc.QueueConfigurations = append(nc.QueueConfigurations, types.QueueConfiguration{Events: []types.Event{types.Event(q.Event)}, QueueArn: aws.String(q.Queue), Filter: filter(q.Filter)})
	}
	for _, t := range cfn.TopicConfigurations {
		nc.TopicConfigurations = append(nc.TopicConfigurations, types.TopicConfiguration{Events: []types.Event{types.Event(t.Event)}, TopicArn: aws.String(t.Topic), Filter: filter(t.Filter)})
	}
	for _, l := range cfn.LambdaConfigurations {
		nc.LambdaFunctionConfigurations = append(nc.LambdaFunctionConfigurations, types.LambdaFunctionConfiguration{Events: []types.Event{types.Event(l.Event)}, LambdaFunctionArn: aws.String(l.Function)})
	}
	if cfn.EventBridgeConfiguration != nil && cfn.EventBridgeConfiguration.EventBridgeEnabled {
		nc.EventBridgeConfiguration = &types.EventBridgeConfiguration{}
	}
	return nc, nil
}

// putNotifications adds notifications to a bucket's configuration. Lambda
// destinations are left out: the emulator runs no Lambda.
func putNotifications(ctx context.Context, d *deployer, id, bucket string, add types.NotificationConfiguration) error {
	if len(add.LambdaFunctionConfigurations) > 0 {
		d.note(id, "LambdaFunctionConfigurations", "the emulator runs no Lambda; make S3 notify an SQS queue the function consumes")
	}
	cur, err := d.c.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: &bucket})
	if err != nil {
		return err
	}
	nc := &types.NotificationConfiguration{
		QueueConfigurations: append(cur.QueueConfigurations, add.QueueConfigurations...),
		TopicConfigurations: append(cur.TopicConfigurations, add.TopicConfigurations...),
	}
	nc.EventBridgeConfiguration = cur.EventBridgeConfiguration
	if add.EventBridgeConfiguration != nil {
		nc.EventBridgeConfiguration = add.EventBridgeConfiguration
	}
	_, err = d.c.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: &bucket, NotificationConfiguration: nc})
	return err
}

// Custom::S3BucketNotifications is how CDK configures a bucket's
// notifications (a custom resource whose NotificationConfiguration is already
// in the API's shape). It is applied to the bucket; there is nothing to
// destroy apart from the bucket.
func applyBucketNotifications(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	bucket, err := p.str("BucketName")
	if err != nil {
		return err
	}
	if bucket == "" {
		return errors.New("Properties.BucketName: missing")
	}
	var nc types.NotificationConfiguration
	if _, err := p.decode(&nc, "NotificationConfiguration"); err != nil {
		return err
	}
	if err := putNotifications(ctx, d, id, bucket, nc); err != nil {
		return err
	}
	d.interpreted(id, physical{Ref: bucket + "-notifications"})
	p.unread("not applied on the emulator", "ServiceToken", "Managed", "SkipDestinationValidation")
	return nil
}

// AWS::S3::BucketPolicy is recorded, not applied (reasonBucketPolicy).
func applyBucketPolicy(_ context.Context, d *deployer, id string, _ *resource) error {
	d.note(id, "PolicyDocument", reasonBucketPolicy)
	d.interpreted(id, physical{Ref: id})
	return nil
}

// destroyBucket empties the bucket (every version and delete marker) and
// deletes it.
func destroyBucket(ctx context.Context, c *clients, res Resource) error {
	bucket := aws.String(res.PhysicalID)
	pager := s3.NewListObjectVersionsPaginator(c.s3, &s3.ListObjectVersionsInput{Bucket: bucket})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		var objs []types.ObjectIdentifier
		for _, v := range page.Versions {
			objs = append(objs, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			objs = append(objs, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(objs) == 0 {
			continue
		}
		if _, err := c.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)}}); err != nil {
			return err
		}
	}
	_, err := c.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket})
	return err
}
