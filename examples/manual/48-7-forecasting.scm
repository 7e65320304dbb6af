;; The manual's chapter 48.7, as printed (find-similar-historical-tasks,
;; average, get-cost and standard-deviation are Omega's: with no history
;; of similar tasks it says so and forecasts from a dry run).
(define (forecast-budget-needs task)
  (let* ((similar-tasks (find-similar-historical-tasks task))
         (avg-cost (average (map get-cost similar-tasks)))
         (std-dev (standard-deviation (map get-cost similar-tasks)))
         (safety-margin 1.5))
    (* avg-cost safety-margin)))  ; 50% safety margin

(forecast-budget-needs '(summarize 100 documents))

;; ---- the value, shown ----
(display (forecast-budget-needs '(summarize 100 documents)))
(newline)
