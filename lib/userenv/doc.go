// Package userenv reads a user's environment, the settings OpenServerless
// keeps for each user in CouchDB (database users_metadata, one document per
// user, found by its "login"): the administrator's "env" and the user's own
// "userenv", each a list of {"key","value"} pairs (or an object), merged with
// userenv winning. It speaks CouchDB's HTTP API with net/http (a Mango _find
// query, basic authentication) and never logs or reports a value it read.
package userenv
