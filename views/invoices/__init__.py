"""Документы / Счета: invoice lists and cards by kind, the forms that make invoices,
printing, and «Информация об оказанных пациенту услугах»."""
