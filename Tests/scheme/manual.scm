;; The user manual's budget procedures (seeds/004, chapter 48) on the real meter.

(define (models-of thunk)
  (let ((models '()))
    (with-tracking (lambda (tokens r) (set! models (cons (result-model r) models))) thunk)
    (reverse models)))
(define (prompts-of thunk)
  (let ((prompts '()))
    (with-effect-handler 'infer.op
      (lambda (request next) (set! prompts (cons (effect-request-prompt request) prompts)) (next request))
      thunk)
    (reverse prompts)))

;; 48.3 allocate-budget: the manual's example, exactly.
(test '((research . 50000) (writing . 33333) (editing . 16667))
      (allocate-budget 100000 '((research priority: 3) (writing priority: 2) (editing priority: 1))))
(test '((a . 4) (b . 3) (c . 3)) (allocate-budget 10 '((a . 1) (b . 1) (c . 1))))
(test 1000 (apply + (map cdr (allocate-budget 1000 '((x . 7) (y . 11) (z . 13) (w . 1))))))
(test '((solo . 500)) (allocate-budget 500 '((solo priority: 2))))
(test-error (allocate-budget 100 '()))
(test-error (allocate-budget 100 '((a . 0) (b . 0))))
(test-error (allocate-budget -5 '((a . 1))))

;; 48.2 adaptive-summarize: one call per document, the prompt by budget.
(test '(("Detailed summary: " "d1") ("Detailed summary: " "d2"))
      (prompts-of (lambda () (adaptive-summarize '("d1" "d2") 60000))))
(test '(("Brief summary (50 words): " "d1")) (prompts-of (lambda () (adaptive-summarize '("d1") 20000))))
(test '(("Title only: " "d1")) (prompts-of (lambda () (adaptive-summarize '("d1") 500))))
(test 3 (length (adaptive-summarize '("a" "b" "c") 500)))

;; 48.4 generate-with-quality-target.
(test "Insufficient budget for high quality"
      (guard (e ((error-object? e) (error-object-message e))) (generate-with-quality-target "x" 'high 100)))
(test '("gpt-4" "gpt-4" "gpt-4") (models-of (lambda () (generate-with-quality-target "Write" 'high 5000))))
(test '("gpt-4") (models-of (lambda () (generate-with-quality-target "Write" 'medium 1000))))
(test '("gpt-3.5-turbo") (models-of (lambda () (generate-with-quality-target "Write" 'medium 999))))
(test '("gpt-3.5-turbo") (models-of (lambda () (generate-with-quality-target "Write" 'low 100000))))
(test-error (generate-with-quality-target "x" 'superb 100))

;; 48.5 monitor-budget-usage: returns the task's value and reports its spend.
(define report
  (call-with-output-string
   (lambda (port)
     (parameterize ((current-output-port port))
       (test "done" (monitor-budget-usage (lambda () (effect infer.op "task" 'max-tokens 30) "done")))))))
(test #t (and (string-contains report "Budget used:") (string-contains report "tokens/sec") #t))
;; Outside monitor-budget-usage (as the manual's own definition calls it),
;; the thunk runs when the next task executed completes.
(define completed '())
(on-completion (lambda () (set! completed (cons 'first completed))))
(on-completion (lambda () (set! completed (cons 'second completed))))
(test '() completed)
(test 42 (execute (lambda () 42)))
(test '(second first) completed)
(test 7 (execute 7))
(test '(second first) completed)
(test-error (on-completion 5))
(test #t (real? (current-time)))

;; 48.6 emergency-mode: each mode changes later calls.
(test 'economy (emergency-mode 3000))
(test #t (caching-enabled?))
(define economy (effect int.op "economy call" 'model "gpt-4o" 'max-tokens 900))
(test "gpt-4o-mini" (result-model economy))
(test #t (<= (result-output-tokens economy) 500))
(test 'emergency (emergency-mode 500))
(define e1 (effect int.op "emergency call" 'model "gpt-4o" 'max-tokens 900))
(define e2 (effect int.op "emergency call" 'model "gpt-4o" 'max-tokens 900))
(test #t (<= (result-output-tokens e1) 150))
(test "gpt-4o" (result-model e1))
(test "cache" (result-backend e2))
(test 'standard (emergency-mode 100000))
(test #f (caching-enabled?))
(test "gpt-4o" (result-model (effect int.op "standard call" 'model "gpt-4o" 'max-tokens 20)))
;; The REPL's `:tokens mode economy`: cheaper siblings, 500-token outputs, the cache.
(economy-mode!)
(test 'economy (current-mode))
(test #t (caching-enabled?))
(define ec1 (effect int.op "economy again" 'model "claude-sonnet-4-5" 'max-tokens 900))
(test "claude-haiku-4-5" (result-model ec1))
(test #t (<= (result-output-tokens ec1) 500))
(test "cache" (result-backend (effect int.op "economy again" 'model "claude-sonnet-4-5" 'max-tokens 900)))
(standard-mode!)
(test 'standard (current-mode))

;; 48.7 forecast-budget-needs: a dry run on the simulator with no history
;; (nothing charged), then mean × 1.5 of similar past tasks, scaled by size.
(define (summarize-docs n)
  (lambda () (for-each (lambda (i) (effect infer.op (string-append "doc " (number->string i)) 'max-tokens 100)) (iota n))))
(define spent-before (budget-spent))
(define dry (forecast-budget-details '(summarize 10 documents) (summarize-docs 10)))
(test 'simulator (cdr (assq 'source dry)))
(test spent-before (budget-spent))
(test (exact (ceiling (* 1.5 (cdr (assq 'mean dry))))) (cdr (assq 'forecast dry)))
;; No history: a dry run of the task stands in (its procedure, when the
;; first word names one; else its text as one prompt), nothing charged.
(define spent-before-dry (budget-spent))
(test #t (> (forecast-budget-needs '(translate 5 pages)) 0))
(test 'simulator (cdr (assq 'source (car (find-similar-historical-tasks '(translate 5 pages))))))
(define (shout n what) (effect infer.op (list "Shout " what) 'max-tokens (* n 10)) 'shouted)
(test #t (<= (get-cost (car (find-similar-historical-tasks '(shout 3 loudly)))) (+ 30 40)))
(test spent-before-dry (budget-spent))
(define t10 (let ((b (budget-spent))) (with-task '(summarize 10 documents) (summarize-docs 10)) (- (budget-spent) b)))
(define t20 (let ((b (budget-spent))) (with-task '(summarize 20 documents) (summarize-docs 20)) (- (budget-spent) b)))
(test 2 (length (find-similar-historical-tasks '(summarize 40 documents))))
(test (list (* 4 t10) (* 2 t20)) (map get-cost (find-similar-historical-tasks '(summarize 40 documents))))
(test (exact (ceiling (* 1.5 (/ (+ (* 4 t10) (* 2 t20)) 2)))) (forecast-budget-needs '(summarize 40 documents)))
(test 'history (cdr (assq 'source (forecast-budget-details '(summarize 40 documents)))))
(test 2 (cdr (assq 'samples (forecast-budget-details '(summarize 40 documents)))))
(test 3 (average '(2 4 3)))
(test 2 (standard-deviation '(2 4 4 4 5 5 7 9)))
