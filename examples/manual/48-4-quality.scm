;; The manual's chapter 48.4, as printed (single-pass and
;; multi-pass-refinement are Omega's).
(define (generate-with-quality-target text quality-level budget)
  (case quality-level
    ((high)
      ;; Use expensive model, multiple passes
      (if (>= budget 5000)
          (multi-pass-refinement text 'gpt-4 3)
          (error "Insufficient budget for high quality")))

    ((medium)
      ;; Single pass with good model
      (if (>= budget 1000)
          (single-pass text 'gpt-4)
          (single-pass text 'gpt-3.5)))  ; Downgrade if needed

    ((low)
      ;; Fast model, no refinement
      (single-pass text 'gpt-3.5))))

;; ---- using it ----
(display (string? (generate-with-quality-target "Explain token budgets." 'high 8000)))
(display (string? (generate-with-quality-target "Explain token budgets." 'medium 500)))
(display (string? (generate-with-quality-target "Explain token budgets." 'low 100)))
(newline)
