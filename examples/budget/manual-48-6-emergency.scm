;; 48.6 Emergency strategies: each mode changes the calls that follow.
(define (call label)
  (let ((r (effect int.op "Write the release notes." 'model "gpt-4o" 'max-tokens 900)))
    (display (list label (current-mode) (result-model r) (result-output-tokens r) (result-backend r)))
    (newline)))
(emergency-mode 100000) (call "plenty of budget:")
(emergency-mode 3000)   (call "under 5000:")
(emergency-mode 500)    (call "under 1000:") (call "again (cached):")
(emergency-mode 100000) (call "back to standard:")
