import Foundation
import Testing

/// Input that once killed the process (issue 14): each now ends with a clear
/// error and an exit status below 128, under a 4 GB address-space limit.
@Suite struct CrashSafetyTests {
    /// `omega ARGS` under `ulimit -v 4194304` (4 GB of address space), or the limit given (KiB).
    static func limited(_ args: [String], file: (name: String, text: String)? = nil,
                        addressSpace: Int = 4_194_304) throws -> (status: Int32, stderr: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-crash-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var args = args
        if let file {
            let path = dir.appendingPathComponent(file.name).path
            try file.text.write(toFile: path, atomically: true, encoding: .utf8)
            args = args.map { $0 == "FILE" ? path : $0 }
        }
        let quoted = ([builtProduct("omega").path] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var env = ProcessInfo.processInfo.environment
        env["OMEGA_LEDGER"] = "none"
        let r = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "ulimit -v \(addressSpace); exec " + quoted.joined(separator: " ")],
                               environment: env, timeout: 90)
        return (r.status, r.stderr)
    }

    @Test(arguments: [
        ("(make-vector 10000000000)", "make-vector: out of memory"),
        ("(make-string (expt 10 12))", "make-string: out of memory"),
        ("(make-bytevector 4611686018427387903)", "make-bytevector: out of memory"),
        ("(make-list 10000000000)", "make-list: out of memory"),
        ("(list-copy '#0=(1 . #0#))", "list-copy: expected a list, not a circular one"),
        ("(let loop ((s \"\")) (loop (string-append s s \"x\")))", "string-append: out of memory"),
        ("(define p (open-output-string)) (let loop () (write-string \"xxxxxxxxxxxxxxxxxxxxxxxx\" p) (loop))", "out of memory"),
        ("(define (f) (call/cc (lambda (k) (+ 1 (f))))) (f)", "error:"),
        ("(with-budget (budget 'seconds 1e300) (lambda () 1))", "with-budget: seconds must be a number from 0 to"),
        ("(effect infer.op \"x\" 'timeout +inf.0)", "option timeout must be a number"),
        ("(effect infer.op \"x\" 'timeout 1e11)", "option timeout must be a number"),
        ("(effect infer.op \"x\" 'simulate-latency 1e30)", "option simulate-latency must be a number"),
        ("(effect infer.op \"x\" 'simulate-overrun 1e30)", "option simulate-overrun must be a number"),
        ("(effect infer.op \"x\" 'temperature +nan.0)", "option temperature must be a number"),
    ])
    func aScriptGetsAnError(script: String, expected: String) throws {
        let r = try Self.limited(["--memory-limit", "256M", "-e", script])
        #expect(r.status == 1, "\(script): status \(r.status): \(r.stderr.prefix(300))")
        #expect(r.stderr.contains(expected), "\(script): \(r.stderr.prefix(300))")
    }

    /// Out of memory is an error a program can catch, and the interpreter goes on.
    @Test func outOfMemoryIsCatchable() throws {
        let r = try runOmega(["--memory-limit", "64M", "-e", """
            (list (guard (e ((error-object? e) 'caught)) (let loop ((l '())) (loop (cons (make-vector 1000) l))))
                  (guard (e ((error-object? e) 'caught)) (make-vector 100000000))
                  (length (make-list 1000 0)))
            """])
        #expect(r.status == 0 && r.stdout.contains("(caught caught 1000)"), "\(r.stdout)\(r.stderr)")
    }

    /// Under a small address-space limit the default memory limit shrinks to
    /// fit it: data that keeps growing ends in `out of memory` (catchable),
    /// not in the system refusing a slab or an array and the process stopping.
    @Test func aSmallAddressSpaceLimitIsAnOutOfMemoryError() throws {
        for script in ["(define (build n acc) (if (= n 0) acc (build (- n 1) (cons n acc)))) (length (build 40000000 '()))",
                       "(let loop ((l '())) (loop (cons (make-string 100 #\\a) l)))",
                       "(define v (make-vector 50000000 0))"] {
            for limit in [[], ["--memory-limit", "2G"]] {   // a limit asked for is bounded too
                let r = try Self.limited(limit + ["-e", script], addressSpace: 400_000)
                #expect(r.status == 1 && r.stderr.contains("out of memory"), "\(limit) \(script): status \(r.status): \(r.stderr.prefix(300))")
            }
        }
        let caught = try Self.limited(["-e", """
            (display (guard (e ((error-object? e) 'caught)) (let loop ((l '())) (loop (cons 1 l)))))
            (display (length (make-list 1000 0)))
            """], addressSpace: 400_000)
        #expect(caught.status == 0, "\(caught.stderr.prefix(300))")
    }

    @Test func deepInputIsAnError() throws {
        let quasi = String(repeating: "`(", count: 300_000) + String(repeating: ")", count: 300_000)
        let r1 = try Self.limited(["FILE"], file: ("deep.scm", quasi))
        #expect(r1.status == 1 && r1.stderr.contains("nested too deeply"), "\(r1.stderr.prefix(300))")
        let parens = String(repeating: "(", count: 300_000) + String(repeating: ")", count: 300_000)
        let r2 = try Self.limited(["FILE"], file: ("deep.scm", parens))
        #expect(r2.status == 1 && r2.stderr.contains("nested deeper than"), "\(r2.stderr.prefix(300))")
        for toml in ["x = " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
                     "x = " + String(repeating: "{a=", count: 100_000) + "1" + String(repeating: "}", count: 100_000)] {
            let run = try Self.limited(["--config", "FILE", "-e", "1"], file: ("deep.toml", toml))
            #expect(run.status == 2 && run.stderr.contains("deep.toml:1: arrays and inline tables nested deeper than 100 levels"), "\(run.stderr.prefix(300))")
            let show = try Self.limited(["config", "show", "--config", "FILE"], file: ("deep.toml", toml))
            #expect(show.status == 2 && show.stderr.contains("nested deeper than 100 levels"), "\(show.stderr.prefix(300))")
        }
    }

    @Test func badConfigurationNumbersAreErrors() throws {
        for (text, expected) in [("[simulate]\nlatency = inf\n", "simulate.latency: expected a number from 0 to 3600, got inf"),
                                 ("[simulate]\nmin-ratio = nan\n", "simulate.min-ratio: expected a number from 0 to 100, got nan"),
                                 ("[budget.run]\nseconds = 1e17\n", "budget.run.seconds: expected a non-negative amount"),
                                 ("[limits]\nmemory = \"lots\"\n", "limits.memory: expected a size")] {
            let r = try Self.limited(["--config", "FILE", "-e", "1"], file: ("c.toml", text))
            #expect(r.status == 2 && r.stderr.contains(expected), "\(text): \(r.stderr)")
        }
        // Strict: unknown keys name the nearest known one; values are checked when the file is read.
        for (text, expected) in [("[bugdet]\nx = 1\n", "c.toml:1: bugdet: unknown setting or table (did you mean budget?)"),
                                 ("modle = \"gpt-4o\"\n", "modle: unknown setting or table (did you mean model?)"),
                                 ("[openai]\nbase_url = \"http://x\"\n", "openai.base_url: unknown key in [openai] (did you mean openai.base-url?)"),
                                 ("[simulate]\nfault = \"bogus\"\n", "simulate.fault: unknown fault 'bogus'"),
                                 ("[simulate]\nlatency = -1\n", "simulate.latency: expected a number from 0 to 3600"),
                                 ("[effects]\nmax-tokens = 99999999999\n", "effects.max-tokens: must be at most 10000000"),
                                 ("[alerts.file]\npath = \"/nonexistent/dir/a.jsonl\"\n", "the directory /nonexistent/dir does not exist"),
                                 ("backend = \"nonexistent\"\n", "unknown backend 'nonexistent'")] {
            let run = try Self.limited(["--config", "FILE", "-e", "1"], file: ("c.toml", text))
            #expect(run.status == 2 && run.stderr.contains(expected), "\(text): \(run.stderr)")
            let show = try Self.limited(["config", "show", "--config", "FILE"], file: ("c.toml", text))
            #expect(show.status == 2, "config show \(text): \(show.status) \(show.stderr)")
        }
        let huge = try Self.limited(["--config", "FILE", "-e", "1"], file: ("big.toml", String(repeating: "# a comment\n", count: 100_000)))
        #expect(huge.status == 2 && huge.stderr.contains("at most 1048576 are read"), "\(huge.stderr)")
        let laughs = ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"] +
            zip("bcdefghi", "abcdefgh").map { "\($0): &\($0) [" + Array(repeating: "*\($1)", count: 9).joined(separator: ",") + "]" }
        let r = try Self.limited(["--config", "FILE", "-e", "1"], file: ("laughs.yaml", laughs.joined(separator: "\n") + "\n"))
        #expect(r.status == 2 && r.stderr.contains("YAML aliases expand to too much"), "\(r.stderr.prefix(300))")
    }
}
