// Package identity decides who is calling an activation, following how
// OpenWhisk runs the deployer's actions.
//
// The owner of the actions is the namespace in their own fully qualified
// name (__OW_ACTION_NAME, "/whisk-system/builder/cleanup"), never a setting.
// Web actions run as their owner, so a web call is one that carries
// __ow_method while the activation namespace is the owner; only then are the
// __ow_* facts trusted. Its user is __ow_user when the controller already
// authenticated the caller, else the subject of the key in the authorization
// header, as OpenWhisk itself reports it. Any other call (a plain invoke, a
// trigger, a rule) is its activation namespace, whatever __ow_* parameters it
// passes, and has system scope when that is the owner. A web call never has
// system scope; without a well-formed action name no call does, and a call
// carrying __ow_method is refused.
//
// Tokens are never logged, never kept in errors, and cached only under a hash.
package identity
