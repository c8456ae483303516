"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import Permissions

PERMISSIONS = Permissions(
    # The webhook from Secrets Manager or SSM (notifier.WebhookStore).
    calls={"secretsmanager": ("GetSecretValue",), "ssm": ("GetParameter",)},
    # A SecureString parameter, or a secret on a customer-managed key, is decrypted with it.
    also={"ssm:GetParameter": ("kms:Decrypt",), "secretsmanager:GetSecretValue": ("kms:Decrypt",)},
)
