package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
)

// maxClientBody is the largest client registration accepted.
const maxClientBody = 256 << 10

// The admin API manages the registered clients: GET /admin/clients lists them, GET, PUT and DELETE
// /admin/clients/{client_id} read, register or replace, and remove one. Only administrators may use it; clients
// defined in the clients file are changed there (409 here).

// clientList is the body of GET /admin/clients.
type clientList struct {
	Clients []auth.Client `json:"clients"`
}

func (a *API) clients() (auth.Clients, error) {
	if a.opts.Security.Clients == nil {
		return nil, notFound("the client registry is not available: authentication is off")
	}
	return a.opts.Security.Clients, nil
}

func (a *API) listClients(q *request) (*response, error) {
	reg, err := a.adminClients(q)
	if err != nil {
		return nil, err
	}
	list, err := reg.List(q.ctx)
	if err != nil {
		return nil, err
	}
	return plainJSON(http.StatusOK, clientList{Clients: list})
}

func (a *API) getClient(q *request) (*response, error) {
	reg, err := a.adminClients(q)
	if err != nil {
		return nil, err
	}
	c, err := reg.Get(q.ctx, q.c.Param("client_id"))
	if err != nil {
		return nil, err
	}
	audit.Touch(q.ctx, "Client/"+c.ID)
	return plainJSON(http.StatusOK, c)
}

// putClient registers or replaces a client: 201 when it is new, 200 when it replaced one.
func (a *API) putClient(q *request) (*response, error) {
	reg, err := a.adminClients(q)
	if err != nil {
		return nil, err
	}
	body, err := q.body(maxClientBody, "application/json")
	if err != nil {
		return nil, err
	}
	c, err := auth.ParseClient(body)
	if err != nil {
		return nil, err
	}
	id := q.c.Param("client_id")
	if c.ID != id {
		return nil, fhir.Errorf(fhir.IssueInvalid, "client_id", "the client_id %q is not the one in the URL (%q)", truncate(c.ID, 128), truncate(id, 128))
	}
	_, err = reg.Get(q.ctx, id)
	existed := err == nil
	if err != nil && !errors.Is(err, auth.ErrClientNotFound) {
		return nil, err
	}
	if err := reg.Put(q.ctx, c); err != nil {
		return nil, err
	}
	audit.Touch(q.ctx, "Client/"+c.ID)
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	return plainJSON(status, c)
}

func (a *API) deleteClient(q *request) (*response, error) {
	reg, err := a.adminClients(q)
	if err != nil {
		return nil, err
	}
	id := q.c.Param("client_id")
	if err := reg.Delete(q.ctx, id); err != nil {
		return nil, err
	}
	audit.Touch(q.ctx, "Client/"+id)
	return &response{status: http.StatusNoContent}, nil
}

// adminClients checks that the caller is an administrator and returns the registry.
func (a *API) adminClients(q *request) (auth.Clients, error) {
	if _, err := requireAdmin(q); err != nil {
		return nil, err
	}
	return a.clients()
}

// plainJSON is a response of v as application/json.
func plainJSON(status int, v any) (*response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return &response{status: status, header: h, body: b}, nil
}
