// Package webaction decodes the parameters OpenWhisk passes to a web action
// into a Request, and encodes a Response as the {statusCode, headers, body}
// map OpenWhisk turns back into HTTP. It holds the single mapping from a
// fault.Kind to an HTTP status.
//
// OpenWhisk delivers a web request as parameters: __ow_method (lower case),
// __ow_headers (lower-cased names), __ow_path, the query and the fields of a
// JSON object body as top-level parameters, and __ow_body for a body that is
// not a JSON object (or __ow_query and __ow_body for raw HTTP actions).
package webaction
