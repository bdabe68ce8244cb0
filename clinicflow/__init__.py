"""clinicflow: a self-hosted patient-flow CRM for private medical clinics."""

__version__ = "0.1.0"
