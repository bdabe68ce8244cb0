from django.utils.translation import gettext_lazy as _

from clinicflow.automation.registry import job_handler

from .services import BATCH_JOB, import_batch_write


@job_handler(BATCH_JOB, label=_("Import a batch of spreadsheet rows"))
def write_import_batch(job) -> str:
    return import_batch_write(spreadsheet_import_id=job.payload["import_id"], start=job.payload["start"])
