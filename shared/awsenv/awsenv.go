// Package awsenv loads the AWS SDK configuration the same way everywhere:
// Lambda, the local stack and the tests. The SDK itself honours the standard
// AWS_ENDPOINT_URL (an emulator such as LocalStack or moto); this package adds
// the few client options an emulator needs.
package awsenv

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Load returns the default configuration (environment, shared files, Lambda
// role credentials, AWS_ENDPOINT_URL).
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}

// S3 builds an S3 client. Against an emulator (a base endpoint is set) it uses
// path-style addressing, since bucket sub-domains of 127.0.0.1 do not resolve.
func S3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.BaseEndpoint != nil
	})
}
