"""Notice letters to the people a run relieved (English and Spanish templates; see
`writer.py` for the files and `templates.py` for how a template is checked)."""

from clearance.outputs.letters.people import LettersError
from clearance.outputs.letters.templates import TemplateError, export_templates
from clearance.outputs.letters.writer import LettersResult, write_letters

__all__ = ["LettersError", "LettersResult", "TemplateError", "export_templates", "write_letters"]
