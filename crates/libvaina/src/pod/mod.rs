//! Pods (later issue): groups of containers sharing namespaces, with vaina's own infra process.
