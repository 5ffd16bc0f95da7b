// Package gateway is a development stand-in for the OpenWhisk controller: an
// HTTP server on the loopback interface that serves the deployer's web actions
// the way OpenWhisk does, for tests and the local stack. It is not part of
// what is deployed.
//
// It answers the paths of the production ingress (deploy/ingress-nginx.yaml)
// and the controller's own web-action path:
//
//	/api/v1/web/<system namespace>/builder/<action>[.http][/<rest>]
//	/system/api/v1/build/<action>[/<rest>]  (start, cleanup, ensure, images, capabilities, status, logs)
//	/system/api/v1/build/<id>[/<rest>]      (any other name is a build id: action status, __ow_path "/<id>[/<rest>]")
//	/api/v1/namespaces                      (the OpenWhisk namespaces API, answered from Subjects)
//	/healthz
//
// A request becomes the parameters of a (non-raw) web action as the
// controller's WebActions API builds them: the package inputs, then __ow_method
// (lower case), __ow_headers (lower-cased names; of a repeated header the last
// value, as the controller keeps it; no content-length), __ow_path, then the
// query parameters, then the fields of a JSON object or form body (a body field
// wins over a query parameter of the same name). Any other body is __ow_body:
// text for text types, base64 for binary ones, the JSON value itself for a JSON
// body that is not an object. Every action is final, as in the manifest: a
// request whose query or body names a package input or a reserved __ow_
// parameter is refused with 400, as OpenWhisk refuses it. There is no
// __ow_user: the actions authenticate the authorization header themselves.
// Every lib/config key missing from the inputs is bound to "", as the manifest
// binds an unset variable. Requests over 1 MiB are refused with 413.
//
// Each action runs in a pool of warm ActionLoop processes (dev/actionproxy),
// as OpenWhisk runs several containers of one action: each process serves one
// activation at a time; a request that finds every process of its action busy
// starts a new one, up to Options.PoolSize (DefaultPoolSize, 4), and past that
// waits for a free one. Start warms one process per action.
// The activation runs as the system namespace (web actions run as their
// owner) with a key of that namespace from Subjects, and the gateway's own URL
// as API host, so the actions' token check (openwhisk-client-go listing the
// namespaces of a key) is answered by this server.
//
// The result is turned into HTTP as the controller's .http extension does: the
// statusCode, headers and body of the result, or of its "error" field when it
// has one (an application error); a result that is not such a response is 400
// "Response is not valid 'message/http'.". A process that crashes, answers
// something that is not a JSON object, answers more than 1 MiB or outlives its
// time limit is a developer error: 400 "There was an error processing your
// request.", as OpenWhisk answers a web call; the reason is written to the log.
//
// Timing. A request waits for its result at most BlockingWait (60 s), then
// answers 202 "Response not yet ready." with the activation id, as the
// controller does. An ActionLoop process cannot abandon an activation, so
// the activation is not cancelled then: it runs on in the background until it
// answers (its result is dropped; a failure is logged) or until its time limit
// (Timeout, 60 s, also its __OW_DEADLINE), when the process is killed, as the
// invoker kills a container that exceeds its limit. A request that waits for
// a free process counts that time in its blocking wait, and waits at most
// Timeout: then it is answered 503, as the controller answers an overloaded
// action. After any failed activation the process is discarded and a later
// activation of that action starts a new one, as OpenWhisk replaces a failed
// container. Stop stops every process, idle or busy, by process id.
package gateway
