"""Every table of every capability, gathered for Alembic."""

from patrimoine.access import models as access_models  # noqa: F401
from patrimoine.charter import models as charter_models  # noqa: F401
from patrimoine.core.db import Base
from patrimoine.datastore import models as datastore_models  # noqa: F401
from patrimoine.documents import models as documents_models  # noqa: F401
from patrimoine.forecast import models as forecast_models  # noqa: F401
from patrimoine.grants import models as grants_models  # noqa: F401
from patrimoine.inventory import models as inventory_models  # noqa: F401
from patrimoine.notifications import models as notifications_models  # noqa: F401
from patrimoine.protection.findings import models as protection_findings_models  # noqa: F401, E501
from patrimoine.protection.register import models as protection_register_models  # noqa: F401, E501
from patrimoine.report import models as report_models  # noqa: F401
from patrimoine.retention import models as retention_models  # noqa: F401
from patrimoine.sovereignty import models as sovereignty_models  # noqa: F401
from patrimoine.standards import models as standards_models  # noqa: F401
from patrimoine.transparency import models as transparency_models  # noqa: F401
from patrimoine.usage import models as usage_models  # noqa: F401

metadata = Base.metadata
