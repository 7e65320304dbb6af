import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// Runs every Tests/scheme/*.scm file through the Scheme test runner.
@Suite struct SchemeSuiteTests {
    static var files: [String] {
        let dir = packageRoot.appendingPathComponent("Tests/scheme")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".scm") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    /// The suite's own folder is read: zero files would make zero cases pass.
    @Test func theSchemeFilesAreFound() {
        #expect(Self.files.count >= 15, "Tests/scheme has \(Self.files.count) files")
    }

    @Test(arguments: files)
    func schemeFile(_ path: String) throws {
        var report: [String] = []
        // As `omega test` runs them: with the model runtime open.
        var options = Interpreter.Options()
        options.libraries = [ModelLibrary()]
        let runner = SchemeTestRunner(options: options) { report.append($0) }
        let finished = runner.run(file: path)
        #expect(finished, "\(report.joined(separator: "\n"))")
        #expect(runner.failed == 0, "\(report.joined(separator: "\n"))")
        #expect(runner.passed > 0)
    }

    /// Continuations re-entered thousands of times, with a collection at
    /// every safe point: nothing a continuation holds may be freed.
    @Test func continuationsSurviveGCStress() throws {
        let path = packageRoot.appendingPathComponent("Tests/scheme/continuations.scm").path
        var env = ProcessInfo.processInfo.environment
        env["OMEGA_GC_STRESS"] = "1"
        let r = try runOmega(["test", path], environment: env, timeout: 300)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("8 passed, 0 failed"), "\(r.stdout)")
    }

    @Test func failuresAreReportedWithLocationExpectedAndActual() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("omega-fail-\(getpid()).scm").path
        try "(test 1 1)\n(test 2 (+ 1 2))\n(test 3 (car '()))\n(test-error 5)\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var report: [String] = []
        let runner = SchemeTestRunner { report.append($0) }
        runner.run(file: path)
        #expect(runner.passed == 1)
        #expect(runner.failed == 3)
        #expect(report[0].hasPrefix("\(path):2:1: FAIL (+ 1 2)"))
        #expect(report[0].contains("expected: 2"))
        #expect(report[0].contains("actual:   3"))
        #expect(report[1].contains("raised:"))
        #expect(report[2].contains("expected an error, got 5"))
        #expect(runner.summary == "1 passed, 3 failed")
    }
}
