;; The manual's chapter 48.6, as printed (the modes it switches are Omega's).
(define (emergency-mode remaining-budget)
  (cond
    ((< remaining-budget 1000)
      ;; Critical: cache everything, use shortest prompts
      (enable-aggressive-caching!)
      (use-minimal-prompts!))

    ((< remaining-budget 5000)
      ;; Warning: reduce quality, increase caching
      (reduce-quality-to-medium!)
      (enable-caching!))

    (else
      ;; Normal operation
      (standard-mode!))))

;; ---- using it ----
(emergency-mode 800)
(display (list (current-mode) (result-output-tokens (effect int.op "Write the release notes." 'max-tokens 900))))
(emergency-mode 100000)
(display (list (current-mode)))
(newline)
