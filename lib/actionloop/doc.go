// Package actionloop is the action side of the ActionLoop protocol of the
// OpenWhisk Go runtime: what a precompiled action's main calls (Run, or Serve
// over explicit streams).
//
// The runtime's proxy starts the executable once and keeps it warm: the
// executable writes {"ok":true} on file descriptor 3 when it is ready, then
// for each activation reads one JSON line on stdin,
//
//	{"value":{…},"namespace":…,"action_name":…,"activation_id":…,"api_key":…,"deadline":"<ms>",…}
//
// exposes every top-level key but "value" as the environment variable
// __OW_<KEY> for that activation only, calls the action with "value", and
// writes the result as one JSON line on file descriptor 3. What the action
// writes on stdout and stderr is the activation log; the proxy, not the
// executable, appends the XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX sentinel to both
// streams after each activation, so Serve never writes it.
//
// The driving side, which plays the proxy for tests and local development,
// is dev/actionproxy; it is not linked into the actions.
package actionloop
