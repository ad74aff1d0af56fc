package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// addNagPacks runs the AwsSolutions and Serverless rule packs over every
// construct at synthesis. Findings become error/warning annotations unless
// suppressed with a reason next to the construct they concern.
func addNagPacks(scope constructs.IConstruct) {
	props := &cdknag.NagPackProps{Verbose: jsii.Bool(true)}
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(props), nil)
	awscdk.Aspects_Of(scope).Add(cdknag.NewServerlessChecks(props), nil)
}

// Annotation types in a cloud assembly's metadata.
const (
	metaError   = "aws:cdk:error"
	metaWarning = "aws:cdk:warning"
)

// synthFindings lists every error and warning annotation that synthesis wrote
// for one stack of the cloud assembly in outdir: the unsuppressed cdk-nag
// findings and anything else CDK warns about. It reads the assembly as the
// CDK CLI does (manifest.json and the stack's metadata file), so the gate
// sees exactly what `cdk deploy` would print.
func synthFindings(outdir, artifactID string) ([]string, error) {
	type entry struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	type metadata map[string][]entry
	var manifest struct {
		Artifacts map[string]struct {
			Metadata               metadata `json:"metadata"`
			AdditionalMetadataFile string   `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	b, err := os.ReadFile(filepath.Join(outdir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("read cloud assembly: %w", err)
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		return nil, fmt.Errorf("parse cloud assembly manifest: %w", err)
	}
	art, ok := manifest.Artifacts[artifactID]
	if !ok {
		return nil, fmt.Errorf("cloud assembly in %s has no artifact %s", outdir, artifactID)
	}
	all := []metadata{art.Metadata}
	if art.AdditionalMetadataFile != "" {
		b, err := os.ReadFile(filepath.Join(outdir, art.AdditionalMetadataFile))
		if err != nil {
			return nil, fmt.Errorf("read stack metadata: %w", err)
		}
		var more metadata
		if err := json.Unmarshal(b, &more); err != nil {
			return nil, fmt.Errorf("parse %s: %w", art.AdditionalMetadataFile, err)
		}
		all = append(all, more)
	}
	var out []string
	for _, md := range all {
		for path, entries := range md {
			for _, e := range entries {
				var level string
				switch e.Type {
				case metaError:
					level = "ERROR"
				case metaWarning:
					level = "WARNING"
				default:
					continue
				}
				out = append(out, fmt.Sprintf("%s %s: %s", level, path, oneLine(fmt.Sprint(e.Data))))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
