;;; A tour of Omega's Scheme. Run: omega examples/demo.scm

(define (say . things) (for-each display things) (newline))

;; Procedures, recursion and exact arithmetic.
(define (fact n) (if (= n 0) 1 (* n (fact (- n 1)))))
(say "30! = " (fact 30))
(say "1/3 + 1/6 = " (+ 1/3 1/6))

;; Proper tail calls: this loop runs in constant memory.
(define (sum-to n)
  (let loop ((i 0) (acc 0))
    (if (> i n) acc (loop (+ i 1) (+ acc i)))))
(say "sum of 0..1,000,000 = " (sum-to 1000000))

;; Deep recursion is limited by memory, not by the thread stack.
(define (depth n) (if (= n 0) 0 (+ 1 (depth (- n 1)))))
(say "recursion depth reached: " (depth 1000000))

;; Closures and higher-order procedures.
(define (make-counter)
  (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
(define tick (make-counter))
(tick) (tick)
(say "counter after three ticks: " (tick))
(say "squares: " (map (lambda (x) (* x x)) '(1 2 3 4 5)))

;; Quasiquote builds data; strings are Unicode.
(define model "gpt-4o-mini")
(say "request: " `(infer (model ,model) (max-tokens ,(* 2 256))))
(say "λ-string length: " (string-length "Ω> λ🙂"))

;; Timing with the R7RS clock.
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(let* ((start (current-jiffy))
       (result (fib 25))
       (ms (round (/ (* 1000 (- (current-jiffy) start)) (jiffies-per-second)))))
  (say "fib(25) = " result " in " ms " ms"))
