;;; R7RS 5.6: libraries with namespaces of their own. Each library sees
;;; only what it imports and defines; importers see only what it exports.

(define-library (test stack)
  (export make-stack push! pop! (rename stack-size size))
  (import (scheme base))
  (begin
    (define (helper) 'stack-helper)          ; private
    (define (make-stack) (list '()))
    (define (push! s x) (set-car! s (cons x (car s))))
    (define (pop! s) (let ((x (caar s))) (set-car! s (cdar s)) x))
    (define (stack-size s) (length (car s)))))

(define-library (test queue)
  (export make-queue helper-name)
  (import (scheme base))
  (begin
    (define (helper) 'queue-helper)          ; a private helper of the same name
    (define (make-queue) (vector '()))
    (define (helper-name) (helper))))

(import (test stack))
(define s (make-stack))
(push! s 1)
(push! s 2)
(test 2 (size s))
(test 2 (pop! s))
(test-error stack-size)                      ; exported under another name only
(test-error helper)                          ; private to both libraries
(import (only (test queue) helper-name))
(test 'queue-helper (helper-name))
(test-error make-queue)                      ; not in the only list
(import (prefix (test queue) q:))
(test #t (vector? (q:make-queue)))
(import (rename (test stack) (push! stack-push!)))
(stack-push! s 9)
(test 9 (pop! s))
(import (except (test queue) helper-name))
(test #t (vector? (make-queue)))

;; A program's definitions do not reach into a library.
(define (length x) 'program-length)
(push! s 1)
(test 2 (size s))

;; (Libraries loaded from files, libs/omega-test/*.sld, are tested with
;; --lib-path in Tests/OmegaTests/CLITests.swift.)

;; Errors that name the problem.
(test-error (eval '(import (no such library)) (interaction-environment)))
(test-error (eval '(define-library (test bad) (export missing) (import (scheme base))) (interaction-environment)))
(test-error (eval '(import (only (test stack) no-such-export)) (interaction-environment)))

;; Macros a library exports keep the library's bindings (hygiene across libraries).
(define-library (test macros)
  (export inc-twice!)
  (import (scheme base))
  (begin
    (define (bump x) (+ x 1))
    (define-syntax inc-twice! (syntax-rules () ((_ v) (begin (set! v (bump v)) (set! v (bump v))))))))
(import (test macros))
(define (bump x) 'program-bump)
(define n 0)
(inc-twice! n)
(test 2 n)

;; Top-level names a macro introduces are its own (hygiene of introduced definitions).
(define-syntax define-getter
  (syntax-rules ()
    ((_ name value) (begin (define (helper-value) value) (define (name) (helper-value))))))
(define-getter get-a 'a)
(define-getter get-b 'b)
(test '(a b) (list (get-a) (get-b)))
(define (helper-value) 'program)
(test '(a b program) (list (get-a) (get-b) (helper-value)))

;; The standard libraries and Omega's own import as before.
(import (scheme base) (scheme char) (scheme complex) (omega budget) (omega effects) (srfi 1))
(test 3 (+ 1 2))
(import (prefix (scheme base) base:))
(test 3 (base:+ 1 2))

;; 6.12: environments are real. eval sees what an environment imports.
(define-library (test env)
  (export x double)
  (import (scheme base))
  (begin (define x 21) (define (double n) (* 2 n)) (define hidden 1)))
(test 42 (eval '(double x) (environment '(test env))))
(test-error (eval 'hidden (environment '(test env))))
(test-error (eval '(car '(1)) (environment '(only (test env) x))))
(test 21 (eval '(* 7 3) (scheme-report-environment 5)))
(test 20 ((eval '(lambda (f x) (f x x)) (null-environment 5)) + 10))
(test 1024.0 (eval '(+ (expt 2 10) (sin 0)) (environment '(scheme base) '(scheme inexact))))
(test 5 (begin (eval '(define defined-by-eval 5) (interaction-environment)) defined-by-eval))
(define (cadr x) 'program-cadr)
(test 2 (eval '(cadr '(1 2)) (environment '(scheme base))))     ; the library's, not the program's
(test 'program-cadr (eval '(cadr '(1 2)) (interaction-environment)))
(test-error (eval 1 'not-an-environment))
