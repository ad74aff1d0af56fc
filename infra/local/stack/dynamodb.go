package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// AWS::DynamoDB::Table (and AWS::DynamoDB::GlobalTable, CDK's TableV2, whose
// replica in this region supplies the per-replica settings): keys, attribute
// definitions, GSIs and LSIs with their projections, billing mode, SSE with
// the stack's key, streams, then TTL and point-in-time recovery. Ref is the
// name; Arn and StreamArn are attributes.
func applyTable(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	name := d.name(nameTable, id, "")
	in := &dynamodb.CreateTableInput{TableName: &name}
	for prop, into := range map[string]any{
		"KeySchema":              &in.KeySchema,
		"AttributeDefinitions":   &in.AttributeDefinitions,
		"GlobalSecondaryIndexes": &in.GlobalSecondaryIndexes,
		"LocalSecondaryIndexes":  &in.LocalSecondaryIndexes,
	} {
		if _, err := p.decode(into, prop); err != nil {
			return err
		}
	}
	mode, err := p.str("BillingMode")
	if err != nil {
		return err
	}
	in.BillingMode = types.BillingMode(mode)
	var pt *struct{ ReadCapacityUnits, WriteCapacityUnits flexInt }
	if _, err := p.decode(&pt, "ProvisionedThroughput"); err != nil {
		return err
	}
	if pt != nil {
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(int64(pt.ReadCapacityUnits)), WriteCapacityUnits: aws.Int64(int64(pt.WriteCapacityUnits))}
	}
	var sse *cfnTableSSE
	if _, err := p.decode(&sse, "SSESpecification"); err != nil {
		return err
	}
	var stream *struct{ StreamViewType string }
	if _, err := p.decode(&stream, "StreamSpecification"); err != nil {
		return err
	}
	if stream != nil && stream.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(stream.StreamViewType)}
	}
	var pitr *cfnPITR
	if _, err := p.decode(&pitr, "PointInTimeRecoverySpecification"); err != nil {
		return err
	}
	var deletionProtection flexBool
	if _, err := p.decode(&deletionProtection, "DeletionProtectionEnabled"); err != nil {
		return err
	}
	var ttl *struct {
		AttributeName string
		Enabled       flexBool
	}
	if _, err := p.decode(&ttl, "TimeToLiveSpecification"); err != nil {
		return err
	}

	if r.Type == "AWS::DynamoDB::GlobalTable" {
		if err := globalTableReplica(p, d.st.Region, &sse, &pitr, &deletionProtection); err != nil {
			return err
		}
	}
	if sse != nil && sse.SSEEnabled {
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSEType(sse.SSEType)}
		if in.SSESpecification.SSEType == "" {
			in.SSESpecification.SSEType = types.SSETypeKms
		}
		if sse.KMSMasterKeyId != "" {
			in.SSESpecification.KMSMasterKeyId = aws.String(sse.KMSMasterKeyId)
		}
	}

	var desc *types.TableDescription
	out, err := d.c.ddb.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	switch {
	case errors.As(err, &inUse): // our own retried request made it (the name is this deployment's)
		got, err := d.c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err != nil {
			return err
		}
		desc = got.Table
	case err != nil:
		return err
	default:
		desc = out.TableDescription
	}
	attrs := map[string]string{"Arn": aws.ToString(desc.TableArn)}
	if s := aws.ToString(desc.LatestStreamArn); s != "" {
		attrs["StreamArn"] = s
	}
	d.created(id, physical{Ref: name, Attrs: attrs})
	if err := waitActive(ctx, d.c.ddb, name); err != nil {
		return err
	}
	if ttl != nil {
		if _, err := d.c.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               &name,
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(ttl.AttributeName), Enabled: aws.Bool(bool(ttl.Enabled))},
		}); err != nil {
			d.note(id, "TimeToLiveSpecification", "the emulator refused it: "+err.Error())
		} else if ttl.Enabled {
			d.note(id, "TimeToLiveSpecification", "set, but moto never deletes expired items; code must not rely on TTL deletion for correctness")
		}
	}
	if pitr != nil {
		if _, err := d.c.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName:                        &name,
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(bool(pitr.PointInTimeRecoveryEnabled))},
		}); err != nil {
			d.note(id, "PointInTimeRecoverySpecification", "the emulator refused it: "+err.Error())
		}
	}
	if deletionProtection {
		d.note(id, "DeletionProtectionEnabled", "not applied locally, so Destroy can delete the table; the CDK assertion tests prove it")
	}
	p.unread("not applied on the emulator", "Tags", "TableName", "Replicas", "ContributorInsightsSpecification", "TableClass")
	return nil
}

// CloudFormation's table SSE and PITR settings.
type (
	cfnTableSSE struct {
		SSEEnabled     flexBool
		SSEType        string
		KMSMasterKeyId string
	}
	cfnPITR struct{ PointInTimeRecoveryEnabled flexBool }
)

// globalTableReplica takes the SSE key, PITR and deletion protection from the
// GlobalTable replica in region (or the first replica).
func globalTableReplica(p *props, region string, sse **cfnTableSSE, pitr **cfnPITR, dp *flexBool) error {
	n := p.len("Replicas")
	if n == 0 {
		return nil
	}
	pick := 0
	for i := 0; i < n; i++ {
		rg, err := p.str("Replicas", i, "Region")
		if err != nil {
			return err
		}
		if rg == region {
			pick = i
			break
		}
	}
	var key struct{ KMSMasterKeyId string }
	if ok, err := p.decode(&key, "Replicas", pick, "SSESpecification"); err != nil {
		return err
	} else if ok && *sse != nil {
		(*sse).KMSMasterKeyId = key.KMSMasterKeyId
	}
	if _, err := p.decode(pitr, "Replicas", pick, "PointInTimeRecoverySpecification"); err != nil {
		return err
	}
	if _, err := p.decode(dp, "Replicas", pick, "DeletionProtectionEnabled"); err != nil {
		return err
	}
	return nil
}

// waitActive waits until a new table is ACTIVE (moto: at once; LocalStack:
// soon after).
func waitActive(ctx context.Context, c *dynamodb.Client, name string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err != nil {
			return err
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("table %s still %s after 30s", name, out.Table.TableStatus)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func destroyTable(ctx context.Context, c *clients, res Resource) error {
	_, err := c.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(res.PhysicalID)})
	return err
}
