package runtimebuild

import "github.com/apache/openserverless-deployer/lib/kube"

// builds selects every build Job; ofUser, one user's.
func builds() string { return kube.LabelComponent + "=" + kube.Component }

func ofUser(user string) string { return builds() + "," + kube.LabelUser + "=" + user }
