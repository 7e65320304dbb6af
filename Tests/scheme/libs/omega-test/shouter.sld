;; Imports another file library under a prefix; has its own private helper.
(define-library (omega-test shouter)
  (export shout)
  (import (scheme base) (scheme char) (prefix (omega-test counter) c:))
  (include "shouter-body.scm"))
