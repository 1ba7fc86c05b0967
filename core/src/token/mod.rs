//! Provisioning: the token-service client and the persisted provisioning state machine.
