package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/accord-fhir/accord/api"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/config"
)

// token prints an access token for the development client, obtained from the running service's token endpoint,
// so that `curl -H "Authorization: Bearer $(accord token)" …` works. It takes the configuration of `accord serve`
// (the same environment and flags) to find the data directory and the service's URL.
func token(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	switch {
	case cfg.AuthOff():
		return errors.New("ACCORD_AUTH=off: the service needs no token")
	case cfg.MongoURI != "":
		return errors.New("the development client exists only with the embedded database (no MONGODB_URI)")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, auth.DevKeyFile)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no development client in %s: start the service first (accord serve)", cfg.DataDir)
	}
	dev, err := auth.LoadDevClient(cfg.DataDir)
	if err != nil {
		return err
	}
	base := cfg.BaseURL
	if base == "" {
		base = "http://" + cfg.Addr
		if cfg.TLSCertFile != "" {
			base = "https://" + cfg.Addr
		}
	}
	base = strings.TrimSuffix(base, "/")
	tr, err := requestToken(ctx, dev, base)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tr.AccessToken)
	fmt.Fprintf(stderr, "access token of %s (scope %s), valid %d s; e.g.\n  curl -H \"Authorization: Bearer $TOKEN\" %s/Patient\n",
		dev.Client.ID, tr.Scope, tr.ExpiresIn, base)
	return nil
}

// requestToken gets an access token for the development client from the token endpoint at base.
func requestToken(ctx context.Context, dev auth.DevClient, base string) (auth.TokenResponse, error) {
	tokenURL := base + api.TokenPath
	assertion, err := dev.Assertion(tokenURL, time.Now(), uuid.NewString())
	if err != nil {
		return auth.TokenResponse{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	form := auth.ClientCredentialsForm(assertion, auth.DevScope)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return auth.TokenResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return auth.TokenResponse{}, fmt.Errorf("is accord serving at %s? %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return auth.TokenResponse{}, fmt.Errorf("token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return auth.TokenResponse{}, fmt.Errorf("the token endpoint %s refused (%d): %s", tokenURL, resp.StatusCode, body)
	}
	var tr auth.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return auth.TokenResponse{}, fmt.Errorf("the token endpoint %s answered no access token", tokenURL)
	}
	return tr, nil
}
