import Foundation
import Testing
import OmegaCore

/// The standard library compiled into an image file (issue 18): a second
/// interpreter loads it instead of compiling the sources, and behaves as
/// one that compiled them; an image that does not match is not used.
@Suite struct LibraryImageTests {
    /// A program that leans on the library: macros (guard, define-values,
    /// parameterize, define-record-type, case-lambda, do), procedures
    /// written in Scheme (map, assoc, string ports), and an error raised
    /// inside library code.
    static let program = """
        (define-record-type point (make-point x y) point? (x point-x) (y point-y))
        (define-values (q r) (floor/ 17 5))
        (define p (make-parameter 1))
        (define area (case-lambda ((s) (* s s)) ((w h) (* w h))))
        (list (map + '(1 2) '(10 20)) q r (parameterize ((p 2)) (p)) (area 3) (area 2 5)
              (point-x (make-point 7 8)) (assoc 2.0 '((1 . a) (2 . b)) =)
              (guard (e (#t (list 'caught (error-object-message e)))) (vector-map car '(1)))
              (do ((i 0 (+ i 1)) (acc '() (cons i acc))) ((= i 3) acc))
              (call-with-output-string (lambda (port) (write 'ok port))))
        """

    private func interpreter(image: String) throws -> Interpreter {
        var options = Interpreter.Options()
        options.libraryImage = image
        return try Interpreter(options: options)
    }

    private func temporaryImagePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("omega-image-\(UUID().uuidString)/library.image").path
    }

    @Test func aSecondInterpreterLoadsTheImageAndBehavesTheSame() throws {
        let path = temporaryImagePath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let compiled = try Interpreter()
        let expected = compiled.writeString(try compiled.evaluate(Self.program))

        let first = try interpreter(image: path)          // compiles, writes the image
        let written = try #require(FileManager.default.contents(atPath: path))
        #expect(written.count > 10_000)
        #expect(first.writeString(try first.evaluate(Self.program)) == expected)

        let second = try interpreter(image: path)         // loads it
        #expect(second.writeString(try second.evaluate(Self.program)) == expected)
        #expect(FileManager.default.contents(atPath: path) == written, "a matching image is not rewritten")

        // Errors in library code still name the library's file and line.
        do {
            _ = try second.evaluate("(map car '(1 2))", sourceName: "user.scm")
            Issue.record("(map car '(1 2)) did not fail")
        } catch let e as OmegaError {
            let fromSources = try? compiled.evaluate("(map car '(1 2))", sourceName: "user.scm")
            #expect(fromSources == nil)
            #expect(e.message.contains("car"), "\(e.message)")
            #expect("\(e)".contains("user.scm:1"), "\(e)")
        }
    }

    @Test func aDamagedOrForeignImageIsNotUsedAndIsRewritten() throws {
        let path = temporaryImagePath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        _ = try interpreter(image: path)
        let good = try #require(FileManager.default.contents(atPath: path))
        let reference = try Interpreter()
        let expectedText = reference.writeString(try reference.evaluate(Self.program))

        var damaged: [Data] = [
            good.prefix(good.count / 2),                   // cut short
            Data("not an image at all".utf8),              // something else
        ]
        var otherKey = good                                // a different build's image
        otherKey[8] ^= 0x55
        damaged.append(otherKey)
        var flipped = good                                 // a byte of the body changed (the checksum fails)
        flipped[good.count / 3] ^= 0xFF
        damaged.append(flipped)

        for (i, bytes) in damaged.enumerated() {
            try bytes.write(to: URL(fileURLWithPath: path))
            let omega = try interpreter(image: path)   // compiles the sources instead
            #expect(omega.writeString(try omega.evaluate(Self.program)) == expectedText, "case \(i)")
            #expect(FileManager.default.contents(atPath: path) == good, "case \(i): rewritten")
        }
    }
}
