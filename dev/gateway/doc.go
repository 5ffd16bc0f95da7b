// Package gateway is a development stand-in for the OpenWhisk controller: an
// HTTP server on the loopback interface that serves the OpenWhisk REST API
// and web actions the way OpenWhisk does, for tests and the local stack. It
// is not part of what is deployed.
//
// It answers the OpenWhisk REST API that wskdeploy, wsk and
// openwhisk-client-go use, with Basic authentication by the keys of Subjects:
//
//	/                                       the controller's description (wskdeploy reads its runtimes)
//	/api/v1/namespaces                      the namespaces of the caller's key
//	/api/v1/namespaces/<ns>/packages[/<p>]  PUT (?overwrite=true to replace; 409 without), GET, DELETE, list
//	/api/v1/namespaces/<ns>/actions[/<p>]/<a>  the same, and POST to invoke (?blocking, ?result, ?timeout)
//	/api/v1/namespaces/<ns>/triggers[/<t>]  the same, and POST to fire
//	/api/v1/namespaces/<ns>/rules[/<r>]     the same, and POST {"status":"active"|"inactive"}
//	/api/v1/namespaces/<ns>/activations[/<id>[/result|/logs]]
//
// "_" is the caller's namespace. Another namespace's entities are refused
// with 403, except the packages it publishes, whose actions any key may read
// and invoke; a namespace that has no key and holds nothing is 404. An
// action is a precompiled zip (exec and exec.env, as `task build` packs it)
// of a kind in Options.Runtimes: exec.env must name that kind's execution
// environment, as the Go runtime checks it; otherwise every activation fails
// as a developer error. A plain invoke runs as the caller (__OW_NAMESPACE,
// __OW_API_KEY) with the package's and the action's parameters under the
// body's, and no __ow_* web field. Blocking invokes wait at most
// BlockingWait, then answer 202 with the activation id, as a non-blocking
// invoke does at once; records keep the result and the log lines of each
// activation. A trigger fired with no active rule runs nothing and records
// nothing (204); with active rules each rule's action runs as the trigger's
// namespace, caused by the trigger's activation.
//
// Schedules. The shared package /whisk.system/alarms offers the feeds
// alarm (cron, trigger_payload, startDate, stopDate), interval (minutes) and
// once (date), run by the gateway itself: a CREATE with the authKey of the
// trigger's namespace fires the trigger on schedule, DELETE stops it, as the
// alarms provider does. An action annotated cron is invoked on that schedule
// as its own namespace, as OpenServerless' scheduler invokes it. Cron
// expressions have five fields, or six with seconds first; a schedule may fire
// at most every Options.MinSchedule (a minute unless a test lowers it).
// Everything is held in memory: nothing outlives Stop.
//
// Web actions are reached by the paths of the production ingress
// (deploy/ingress-nginx.yaml) and the controller's own web-action path:
//
//	/api/v1/web/<namespace>/<package>/<action>[.http][/<rest>]
//	/system/api/v1/build/<action>[/<rest>]  (start, cleanup, ensure, images, capabilities, status, logs)
//	/system/api/v1/build/<id>[/<rest>]      (any other name is a build id: action status, __ow_path "/<id>[/<rest>]")
//	/healthz
//
// (the build paths name the actions of package builder in the system
// namespace), and only an action annotated web-export answers them.
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
// waits for a free one. Start warms one process per action of
// Options.Actions. A web activation runs as the action's owner with a key of
// that namespace from Subjects, and the gateway's own URL as API host, so the
// actions' token check (openwhisk-client-go listing the namespaces of a key)
// is answered by this server.
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
// (the action's limits.timeout, also its __OW_DEADLINE), when the process is killed, as the
// invoker kills a container that exceeds its limit. A request that waits for
// a free process counts that time in its blocking wait, and waits at most
// Timeout: then it is answered 503, as the controller answers an overloaded
// action. After any failed activation the process is discarded and a later
// activation of that action starts a new one, as OpenWhisk replaces a failed
// container. Stop stops every process, idle or busy, by process id.
package gateway
