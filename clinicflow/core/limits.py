"""How long typed text may be: one place for the page forms and the API schemas, which refuse longer text
with an error naming the field (the services still cut anything longer, as a last guard for other callers).

A limit written twice drifted (the phone form took 20,000 characters where the API took 2,000); each shared
field now reads its number here, and tests/core/test_limits.py compares the forms with the schemas.
"""

NAME = 160  # a person's name as typed (Patient.full_name, Inquiry.given_name)
PHONE = 40  # any common spelling; stored as E.164
EMAIL = 254  # RFC 5321's longest address
PREFERRED_TIME = 200  # "weekday mornings", as typed
COMMENT = 2000  # what the sender wrote: the web form's comment, the phone form's "what the caller wants"
ANSWER = 4000  # the answer given to a patient
REASON = 200  # why an inquiry is closed, a case moved or transferred
INTAKE_ANSWER = 500  # one answer of the intake script
TASK_TITLE = 200
UTM = 200
