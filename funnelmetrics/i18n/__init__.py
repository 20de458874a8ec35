"""Languages (en, id, ms): number, currency and date formatting by locale, and interface texts."""
