// Package awsenv loads the AWS SDK configuration the same way everywhere:
// Lambda, the local stack and the tests. The SDK itself honours the standard
// AWS_ENDPOINT_URL (an emulator such as LocalStack or moto); this package adds
// the few client options an emulator needs.
package awsenv

import (
	"context"
	"fmt"
	"os"
	"strings"

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

// Env reads required environment variables and reports every missing one at
// once, so a misconfigured function fails at start with one clear message.
func Env(names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		v, ok := os.LookupEnv(n)
		if !ok || v == "" {
			missing = append(missing, n)
			continue
		}
		out[n] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	return out, nil
}
