"""AWS Bedrock model customization and inference provider for modelops-core.

The component is registered lazily by :mod:`modelops_provider_bedrock.plugin`; importing this
package imports no ``boto3``.
"""

__version__ = "0.1.0"
