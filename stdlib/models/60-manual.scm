;;; The budget procedures of the user manual (seeds/004, chapter 48),
;;; working on the real meter. The meter's own procedures (with-budget,
;;; with-tracking, budget-remaining …) are in 50-budget.scm.

;;; 48.2 Cost-aware execution

;; One call per document; the prompt depends on the budget left.
(define (adaptive-summarize documents remaining-budget)
  (let ((prefix (cond ((> remaining-budget 50000) "Detailed summary: ")
                      ((> remaining-budget 10000) "Brief summary (50 words): ")
                      (else "Title only: "))))
    (map (lambda (doc) (effect infer.op (list prefix doc))) documents)))

;;; 48.3 Allocation

;; A task's weight: (research priority: 3), (research . 3), or a bare name (1).
(define (get-priority task)
  (cond ((and (pair? task) (real? (cdr task))) (cdr task))
        ((and (pair? task) (memq (%option-name-or-self (cadr-safe task)) '(priority)) (pair? (cddr task)))
         (caddr task))
        ((pair? task) 1)
        (else 1)))
(define (%option-name-or-self x) (if (symbol? x) (%option-name x) x))
(define (cadr-safe x) (and (pair? (cdr x)) (cadr x)))
(define (%task-name task) (if (pair? task) (car task) task))

;; (allocate-budget 100000 '((research priority: 3) (writing priority: 2) (editing priority: 1)))
;; → ((research . 50000) (writing . 33333) (editing . 16667)): whole tokens in
;; proportion to priority, adding up exactly to the total (largest remainders
;; get the leftover tokens).
(define (allocate-budget total-budget tasks)
  (unless (and (exact-integer? total-budget) (>= total-budget 0))
    (error "allocate-budget: the total must be a whole number of tokens, got" total-budget))
  (when (null? tasks) (error "allocate-budget: no tasks"))
  (let* ((weights (map get-priority tasks))
         (total-weight (apply + weights)))
    (for-each (lambda (w) (unless (and (real? w) (>= w 0)) (error "allocate-budget: a priority must be a non-negative number, got" w)))
              weights)
    (when (zero? total-weight) (error "allocate-budget: the priorities add up to zero"))
    (let* ((exact-shares (map (lambda (w) (* total-budget (/ (exact w) (exact total-weight)))) weights))
           (floors (map floor exact-shares))
           (left (- total-budget (apply + floors)))
           ;; indices by descending remainder, earlier tasks first on ties
           (order (sort (iota (length tasks))
                        (lambda (i j)
                          (let ((ri (- (list-ref exact-shares i) (list-ref floors i)))
                                (rj (- (list-ref exact-shares j) (list-ref floors j))))
                            (or (> ri rj) (and (= ri rj) (< i j)))))))
           (bonus (let loop ((k 0) (o order) (acc '()))
                    (if (or (= k left) (null? o)) acc (loop (+ k 1) (cdr o) (cons (car o) acc))))))
      (map (lambda (task i f) (cons (%task-name task) (exact (if (memv i bonus) (+ f 1) f))))
           tasks (iota (length tasks)) floors))))

;;; 48.4 Quality against cost

(define (%model-name m)
  (case m
    ((gpt-4) "gpt-4")
    ((gpt-3.5 gpt-3.5-turbo) "gpt-3.5-turbo")
    (else (if (symbol? m) (symbol->string m) m))))

;; One call to MODEL.
(define (single-pass text model)
  (effect infer.op text 'model (%model-name model)))

;; A draft, then PASSES − 1 rounds of critique-and-rewrite, all with MODEL.
(define (multi-pass-refinement text model passes)
  (let loop ((draft (single-pass text model)) (n 1))
    (if (>= n passes)
        draft
        (loop (effect infer.op (list "Improve this text; keep its meaning, fix what is weak:\n\n" draft)
                      'model (%model-name model))
              (+ n 1)))))

(define (generate-with-quality-target text quality-level budget)
  (case quality-level
    ((high) (if (>= budget 5000)
                (multi-pass-refinement text 'gpt-4 3)
                (error "Insufficient budget for high quality")))
    ((medium) (if (>= budget 1000) (single-pass text 'gpt-4) (single-pass text 'gpt-3.5)))
    ((low) (single-pass text 'gpt-3.5))
    (else (error "generate-with-quality-target: the quality level must be high, medium or low, got" quality-level))))

;;; 48.5 Monitoring

;; Tokens that can still be spent (+inf.0 when nothing limits them).
(define (get-budget) (budget-remaining))
;; Seconds, as a real, for measuring durations.
(define (current-time) (/ (current-jiffy) (exact->inexact (jiffies-per-second))))

(define %completion-thunks (make-parameter #f))
;; Thunks to run when the next task completes (on-completion outside
;; monitor-budget-usage, as the manual's own definition of it calls it).
(define %next-completions '())
;; Run THUNK when the task being monitored (else the next one executed) completes.
(define (on-completion thunk)
  (unless (procedure? thunk) (error "on-completion: not a procedure:" thunk))
  (let ((box (%completion-thunks)))
    (if (pair? box)
        (set-car! box (cons thunk (car box)))
        (set! %next-completions (cons thunk %next-completions)))))
;; A task is a thunk (or a value, returned as is); then the completion
;; thunks registered for it run, in the order they were registered.
(define (execute task)
  (let ((waiting (reverse %next-completions)))
    (set! %next-completions '())
    (let ((result (if (procedure? task) (task) task)))
      (for-each (lambda (t) (t)) waiting)
      result)))

;; Runs TASK and prints what it spent: tokens, seconds, tokens per second.
(define (monitor-budget-usage task)
  (let ((initial-spent (budget-spent))
        (start-time (current-time))
        (box (list '())))
    (define (report-usage)
      (let ((spent (- (budget-spent) initial-spent))
            (duration (- (current-time) start-time)))
        (display (list "Budget used:" spent "tokens in" (/ (round (* duration 1000)) 1000.) "seconds"))
        (newline)
        (display (list "Rate:" (if (> duration 0) (exact (round (/ spent duration))) 0) "tokens/sec"))
        (newline)))
    (parameterize ((%completion-thunks box))
      (on-completion report-usage)
      (let ((result (execute task)))
        (for-each (lambda (t) (t)) (car box))
        result))))

;;; 48.6 Emergency strategies: modes that change every later call

;; Expensive model → its cheaper sibling, for reduce-quality-to-medium!
;; (the table is Prices/CheaperModels.swift, shared with the reports' advice).
(define %cheaper-models (%cheaper-model-pairs))
(define %mode-rules '())
(define (%add-mode-rule! name rule)
  (set! %mode-rules (append %mode-rules (list rule)))
  (%set-mode! name %mode-rules))

;; Cache every answer, and serve repeated requests from it.
(define (enable-aggressive-caching!) (enable-caching!) (%set-mode! 'emergency %mode-rules))
;; Shortest outputs: at most 150 tokens per call.
(define (use-minimal-prompts!) (%add-mode-rule! 'emergency '(0 max-tokens 150)))
;; Every later call to an expensive model goes to its cheaper sibling, with
;; at most 500 output tokens.
(define (reduce-quality-to-medium!)
  (for-each (lambda (p) (%add-mode-rule! 'economy (list 0 'model (cdr p) (car p)))) %cheaper-models)
  (%add-mode-rule! 'economy '(0 max-tokens 500)))
;; Economy: the cheaper sibling models, 500-token outputs, and the cache
;; (the REPL's `:tokens mode economy`, `/tokens mode economy` in the seeds).
(define (economy-mode!)
  (set! %mode-rules '())
  (reduce-quality-to-medium!)
  (enable-caching!))
;; Emergency: the cheaper sibling models, 150-token outputs, and the cache
;; (`omega tokens mode emergency`).
(define (emergency-mode!)
  (set! %mode-rules '())
  (reduce-quality-to-medium!)
  (set! %mode-rules (filter (lambda (r) (not (eq? (cadr r) 'max-tokens))) %mode-rules))
  (%add-mode-rule! 'emergency '(0 max-tokens 150))
  (enable-caching!))
(define (standard-mode!)
  (set! %mode-rules '())
  (disable-caching!)
  (%set-mode! 'standard '()))

(define (emergency-mode remaining-budget)
  (set! %mode-rules '())
  (cond ((< remaining-budget 1000) (enable-aggressive-caching!) (use-minimal-prompts!))
        ((< remaining-budget 5000) (reduce-quality-to-medium!) (enable-caching!))
        (else (standard-mode!)))
  (current-mode))

;;; 48.7 Forecasting, from the ledger's history of similar tasks

;; A task is a datum such as (summarize 100 documents): its kind is its
;; first word, its size its first number.
(define (%task-kind task)
  (let ((head (if (pair? task) (car task) task)))
    (cond ((symbol? head) (symbol->string head))
          ((string? head) head)
          (else (call-with-output-string (lambda (p) (write head p)))))))
(define (%task-size task)
  (and (pair? task)
       (let loop ((xs (cdr task)))
         (cond ((not (pair? xs)) #f) ((real? (car xs)) (car xs)) (else (loop (cdr xs)))))))
(define (%task-text task) (if (string? task) task (call-with-output-string (lambda (p) (write task p)))))

;; (with-task TASK THUNK): runs THUNK and records what TASK spent (tokens,
;; dollars, seconds) in the ledger, for forecasts of similar tasks.
(define (with-task task thunk)
  (let ((tokens (budget-spent)) (usd (budget-spent 'usd)) (start (current-time)))
    (let ((result (thunk)))
      (%record-task! (%task-text task) (%task-kind task) (%task-size task)
                     (- (budget-spent) tokens) (- (budget-spent 'usd) usd) (- (current-time) start))
      result)))

;; Past tasks of the same kind, each an association list (task kind size
;; tokens usd seconds run); when both have a size, scaled-tokens is the
;; past spend scaled to this task's size.
(define (%similar-history task)
  (let ((size (%task-size task)))
    (map (lambda (r)
           (let ((past-size (cdr (assq 'size r))))
             (if (and size past-size (> past-size 0))
                 (cons (cons 'scaled-tokens (exact (round (* (cdr (assq 'tokens r)) (/ size past-size))))) r)
                 r)))
         (%similar-tasks (%task-kind task)))))

;; The history of tasks like TASK; with none, says so and runs TASK dry
;; on the offline simulator (nothing charged, nothing recorded), whose
;; spend stands in as the one record (source simulator). A task datum is
;; run by the procedure its first word names, with the rest as arguments
;; ((summarize 100 documents) → (summarize 100 'documents)); otherwise its
;; text is one prompt.
(define (find-similar-historical-tasks task)
  (let ((history (%similar-history task)))
    (if (pair? history)
        history
        (begin
          (let ((p (current-error-port)))
            (display "omega: note: no history of tasks like " p) (write task p)
            (display "; forecasting from a dry run on the offline simulator (record real runs with with-task)" p)
            (newline p))
          (list (%dry-run-record task (lambda () (%run-task-datum task))))))))

(define (%run-task-datum task)
  (let ((proc (and (pair? task) (%global-procedure (car task)))))
    (if (and proc (list? task))
        (apply proc (cdr task))
        (effect infer.op (%task-text task)))))

(define (%dry-run-record task thunk)
  (let ((spent #f) (start (current-time)))
    (dynamic-wind %dry-run-begin thunk (lambda () (set! spent (%dry-run-end))))
    (list (cons 'task (%task-text task)) (cons 'kind (%task-kind task)) (cons 'size (%task-size task))
          (cons 'tokens spent) (cons 'usd 0) (cons 'seconds (- (current-time) start)) (cons 'source 'simulator))))

;; What a past task cost, in tokens (scaled to the asked size when it can be).
(define (get-cost record)
  (let ((scaled (assq 'scaled-tokens record)))
    (if scaled (cdr scaled) (cdr (assq 'tokens record)))))

(define (average xs) (/ (apply + xs) (length xs)))
(define (standard-deviation xs)
  (let ((m (average xs)))
    (sqrt (/ (apply + (map (lambda (x) (square (- x m))) xs)) (length xs)))))

;; The forecast and how it was made: forecast (mean × 1.5, whole tokens),
;; mean, std-dev, samples, source (history, or simulator: with no history,
;; THUNK — else the task itself, as find-similar-historical-tasks runs it —
;; runs as a dry run on the offline simulator, nothing charged, and its
;; spend stands in for the mean).
(define (forecast-budget-details task . thunk)
  (let ((similar (%similar-history task))
        (safety-margin 1.5))
    (cond ((pair? similar)
           (let* ((costs (map get-cost similar)) (avg (average costs)))
             (list (cons 'forecast (exact (ceiling (* avg safety-margin))))
                   (cons 'mean (exact->inexact avg))
                   (cons 'std-dev (exact->inexact (standard-deviation costs)))
                   (cons 'samples (length costs))
                   (cons 'source 'history))))
          ((and (pair? thunk) (procedure? (car thunk)))
           (let ((spent #f))
             (dynamic-wind %dry-run-begin (car thunk) (lambda () (set! spent (%dry-run-end))))
             (list (cons 'forecast (exact (ceiling (* spent safety-margin))))
                   (cons 'mean (exact->inexact spent)) (cons 'std-dev 0.) (cons 'samples 0)
                   (cons 'source 'simulator))))
          (else
           (let* ((record (car (find-similar-historical-tasks task))) (spent (get-cost record)))
             (list (cons 'forecast (exact (ceiling (* spent safety-margin))))
                   (cons 'mean (exact->inexact spent)) (cons 'std-dev 0.) (cons 'samples 0)
                   (cons 'source 'simulator)))))))

;; (forecast-budget-needs '(summarize 100 documents) [THUNK]) → tokens.
(define (forecast-budget-needs task . thunk)
  (cdr (assq 'forecast (apply forecast-budget-details task thunk))))
