// Package config reads the deployer's settings once per activation into one
// Config: from the action's bound inputs first, then from the environment.
// Nothing here ever comes from the caller: the manifest binds every key listed
// in Keys, and web actions are final, so a request cannot override them.
package config
