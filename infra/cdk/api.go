package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/kycgate/kycgate/shared/contract"
)

// API is the HTTP API: one route per contract.Routes entry, a JWT authorizer
// on every route but the HMAC-signed billing webhook, and the $default stage
// with JSON access logs and default-route throttling.
type API struct {
	constructs.Construct
	Api        awsapigatewayv2.HttpApi
	Stage      awsapigatewayv2.HttpStage
	Authorizer awsapigatewayv2authorizers.HttpJwtAuthorizer
	AccessLogs awslogs.LogGroup
	Routes     map[string]awsapigatewayv2.HttpRoute // by contract Route.Pattern
}

// accessLogFormat is the stage's JSON access log: ids, status and timings,
// the caller's token subject (an id) and IP (security investigations); no
// request bodies or headers.
var accessLogFormat = map[string]string{
	"requestId":          "$context.requestId",
	"requestTime":        "$context.requestTime",
	"ip":                 "$context.identity.sourceIp",
	"routeKey":           "$context.routeKey",
	"status":             "$context.status",
	"protocol":           "$context.protocol",
	"responseLength":     "$context.responseLength",
	"latencyMs":          "$context.responseLatency",
	"integrationLatency": "$context.integrationLatency",
	"integrationStatus":  "$context.integrationStatus",
	"integrationError":   "$context.integrationErrorMessage",
	"authorizerError":    "$context.authorizer.error",
	"sub":                "$context.authorizer.claims.sub",
}

func newAPI(scope constructs.Construct, id string, cfg Config, fns *Functions) *API {
	c := constructs.NewConstruct(scope, jsii.String(id))
	api := awsapigatewayv2.NewHttpApi(c, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("KYC gate: customer, reviewer/admin and billing webhook API"),
		CreateDefaultStage: jsii.Bool(false),
		CorsPreflight: &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: jsii.Strings(cfg.UploadOrigins...),
			AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{
				awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST, awsapigatewayv2.CorsHttpMethod_OPTIONS,
			},
			AllowHeaders: jsii.Strings("authorization", "content-type"),
			MaxAge:       awscdk.Duration_Hours(jsii.Number(1)),
		},
	})

	accessLogs := awslogs.NewLogGroup(c, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	stage := awsapigatewayv2.NewHttpStage(c, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(cfg.APIThrottleRate),
			BurstLimit: jsii.Number(float64(cfg.APIThrottleBurst)),
		},
	})
	format, err := json.Marshal(accessLogFormat)
	if err != nil {
		panic(err)
	}
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(string(format)),
	})

	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("JwtAuthorizer"), jsii.String(cfg.JWTIssuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			AuthorizerName: jsii.String("kyc-jwt"),
			JwtAudience:    jsii.Strings(cfg.JWTAudience...),
			IdentitySource: jsii.Strings("$request.header.Authorization"),
		})

	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	a := &API{Construct: c, Api: api, Stage: stage, Authorizer: authorizer, AccessLogs: accessLogs, Routes: map[string]awsapigatewayv2.HttpRoute{}}
	for _, r := range contract.Routes {
		method, path, ok := strings.Cut(r.Pattern, " ")
		if !ok {
			panic(fmt.Sprintf("infra: route pattern %q is not \"METHOD /path\"", r.Pattern))
		}
		fn, ok := fns.Fn[r.Function]
		if !ok {
			panic(fmt.Sprintf("infra: route %q names unknown function %q", r.Pattern, r.Function))
		}
		integ, ok := integrations[r.Function]
		if !ok {
			integ = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(constructID(r.Function)+"Integration"), fn,
				&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
					PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
				})
			integrations[r.Function] = integ
		}
		props := &awsapigatewayv2.HttpRouteProps{
			HttpApi:     api,
			RouteKey:    awsapigatewayv2.HttpRouteKey_With(jsii.String(path), awsapigatewayv2.HttpMethod(method)),
			Integration: integ,
		}
		switch r.Auth {
		case contract.AuthJWT:
			props.Authorizer = authorizer
		case contract.AuthNone, contract.AuthPage:
			props.Authorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
		default:
			panic(fmt.Sprintf("infra: route %q has unknown auth %q", r.Pattern, r.Auth))
		}
		route := awsapigatewayv2.NewHttpRoute(c, jsii.String("Route"+routeID(r.Pattern)), props)
		if r.Auth == contract.AuthNone {
			cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{{
				Id: jsii.String("AwsSolutions-APIG4"),
				Reason: jsii.String("This is the billing-system webhook (" + r.Pattern + "). The billing system (WHMCS hooks) cannot " +
					"obtain a JWT, so the route has no API Gateway authorizer; billing-intake authenticates every request itself by " +
					"an HMAC-SHA256 signature over timestamp and body with the key in the webhook secret, rejects stale timestamps " +
					"and replays, and the stage's throttling limits abuse."),
			}}, jsii.Bool(true))
		}
		if r.Auth == contract.AuthPage {
			cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{{
				Id: jsii.String("AwsSolutions-APIG4"),
				Reason: jsii.String("A page for people (" + r.Pattern + "): a browser sends no bearer token, so API Gateway runs no " +
					"authorizer. The function authenticates every request itself from its encrypted, authenticated __Host- session " +
					"cookie (customers signed in by the billing system's signed single-use token, staff by OpenID Connect with PKCE), " +
					"refuses cross-origin state changes, and the stage's throttling limits abuse (docs/security.md)."),
			}}, jsii.Bool(true))
		}
		a.Routes[r.Pattern] = route
	}
	return a
}

// URL is the API's base URL (the $default stage is served at the root).
func (a *API) URL() *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{a.Api.ApiEndpoint(), jsii.String("/")})
}

// routeID turns "POST /v1/admin/submissions/{id}/claim" into
// "PostV1AdminSubmissionsIdClaim" (a readable, stable construct id).
func routeID(pattern string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(pattern, func(r rune) bool {
		return r == ' ' || r == '/' || r == '{' || r == '}' || r == '-'
	}) {
		b.WriteString(strings.ToUpper(part[:1]) + strings.ToLower(part[1:]))
	}
	return b.String()
}
