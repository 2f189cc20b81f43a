package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// MaxClientsFileBytes is the largest clients file LoadClientsFile reads.
const MaxClientsFileBytes = 4 << 20

// ClientsFileError lists every problem of a clients file; the service refuses to start and prints it.
type ClientsFileError struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *ClientsFileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Sprintf("invalid clients file, %d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// LoadClientsFile reads and parses the clients file at path (see ParseClients). It returns an error wrapping the
// path when the file cannot be read or is larger than MaxClientsFileBytes, or the *ClientsFileError of ParseClients.
func LoadClientsFile(path string) ([]Client, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("clients file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxClientsFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("clients file %s: %w", path, err)
	}
	if len(data) > MaxClientsFileBytes {
		return nil, fmt.Errorf("clients file %s: larger than %d bytes", path, MaxClientsFileBytes)
	}
	clients, err := ParseClients(data)
	if err != nil {
		return nil, fmt.Errorf("clients file %s: %w", path, err)
	}
	return clients, nil
}

// clientFields are the members a client object may have; anything else (such as "organisations") is a mistake.
func clientFields() []string {
	return []string{"client_id", "organizations", "role", "scopes", "jwks", "jwks_uri", "identifiable_access"}
}

// ParseClients parses a clients file, {"clients": [client, …]}, and validates every client. It returns a
// *ClientsFileError naming every problem with its JSON path and client id: JSON that does not parse, unknown
// members, duplicate client ids, and everything ValidateClient checks.
func ParseClients(data []byte) ([]Client, error) {
	var file struct {
		Clients []json.RawMessage `json:"clients"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, &ClientsFileError{Problems: []Problem{{Path: "$", Message: jsonProblem(err)}}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ClientsFileError{Problems: []Problem{{Path: "$", Message: "unexpected data after the top-level object"}}}
	}
	if file.Clients == nil {
		return nil, &ClientsFileError{Problems: []Problem{{Path: "clients", Message: "missing: want {\"clients\": [ … ]}"}}}
	}
	var problems []Problem
	clients := make([]Client, 0, len(file.Clients))
	ids := map[string]int{}
	for i, raw := range file.Clients {
		prefix := "clients[" + strconv.Itoa(i) + "]"
		c, ps := parseClient(raw, prefix)
		if first, dup := ids[c.ID]; dup && c.ID != "" {
			ps = append(ps, Problem{Path: prefix + ".client_id", ClientID: c.ID,
				Message: fmt.Sprintf("duplicate of clients[%d]", first)})
		}
		ids[c.ID] = i
		problems = append(problems, ps...)
		clients = append(clients, c)
	}
	if len(problems) > 0 {
		return nil, &ClientsFileError{Problems: problems}
	}
	return clients, nil
}

// parseClient decodes and validates one client, with problem paths under prefix.
func parseClient(raw json.RawMessage, prefix string) (Client, []Problem) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return Client{}, []Problem{{Path: prefix, Message: jsonProblem(err)}}
	}
	var c Client
	var idOnly struct {
		ID string `json:"client_id"`
	}
	_ = json.Unmarshal(raw, &idOnly) // best effort, to name the client in the problems below
	var ps []Problem
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if !slices.Contains(clientFields(), name) {
			ps = append(ps, Problem{Path: prefix + "." + name, ClientID: idOnly.ID,
				Message: fmt.Sprintf("unknown member; want one of %s", strings.Join(clientFields(), ", "))})
		}
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Client{ID: idOnly.ID}, append(ps, Problem{Path: prefix + typeErrorPath(err), ClientID: idOnly.ID,
			Message: jsonProblem(err)})
	}
	for _, p := range clientProblems(c) {
		p.Path = prefix + "." + p.Path
		ps = append(ps, p)
	}
	return c, ps
}

// typeErrorPath returns ".field.path" for a JSON type error, or "".
func typeErrorPath(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "." + te.Field
	}
	return ""
}

// jsonProblem describes a JSON decoding error without quoting the document.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("JSON %s where %s is expected", te.Value, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.EOF):
		return "empty file"
	}
	return "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}
