package auth

// SMARTConfiguration is the document served at /.well-known/smart-configuration.
// See https://hl7.org/fhir/smart-app-launch/conformance.html#metadata.
type SMARTConfiguration struct {
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	Capabilities                               []string `json:"capabilities"`
}

// NewSMARTConfiguration describes what Accord supports: backend services only (client credentials with an
// asymmetrically signed assertion, ES384 or RS384), system scopes in v1 and v2 syntax. tokenURL and jwksURL are the
// absolute URLs of the token endpoint and of the published signing keys.
func NewSMARTConfiguration(tokenURL, jwksURL string) SMARTConfiguration {
	return SMARTConfiguration{
		TokenEndpoint:                     tokenURL,
		JWKSURI:                           jwksURL,
		GrantTypesSupported:               []string{GrantTypeClientCredentials},
		TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
		TokenEndpointAuthSigningAlgValuesSupported: assertionMethods(),
		ScopesSupported:        []string{"system/*.cruds", "system/*.rs", "system/*.read", "system/*.write", "system/*.*"},
		ResponseTypesSupported: []string{"token"},
		// SMART 2 requires the member; Accord has no authorization-code flow, so S256 is never exercised.
		CodeChallengeMethodsSupported: []string{"S256"},
		Capabilities:                  []string{"client-confidential-asymmetric", "permission-v1", "permission-v2"},
	}
}
