"""scrm_xl: the ROI of a Social CRM programme, computed honestly inside its Excel workbook."""

__version__ = "0.1.0"
