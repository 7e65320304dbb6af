import Foundation

extension Interpreter {
    /// Loads the libraries' Scheme sources at start-up: from the compiled
    /// image at `image` when it matches them, else from the sources (writing
    /// the image for the next start when a path is given). Errors in the
    /// sources are thrown as `OmegaError`s, as `evaluate` throws them.
    func loadLibraries(_ sources: [LibraryImage.Source], image path: String?) throws {
        stackGuard.enter()
        do {
            let key = LibraryImage.key(sources)
            if let path, let entries = readImage(path, key: key) {
                try run(entries, sources)
                return
            }
            var writer = path.map { _ in LibraryImage.Writer(interp: self, key: key) }
            for (index, source) in sources.enumerated() {
                var reader = Reader(scalars: Array(source.text.unicodeScalars), position: 0,
                                    fileID: sourceFiles.id(for: source.name), interp: self)
                while try !reader.atEnd() {
                    let (position, line, column) = (reader.position, reader.line, reader.column)
                    guard let form = try reader.read() else { break }
                    if LibraryImage.isCompiled(form) {
                        let template = try CodeGenerator.generate(try expander.expandToplevel(form), interp: self)
                        // A constant the image cannot keep: no image, the sources every time.
                        do { try writer?.entry(.compiled(template)) } catch { writer = nil }
                        _ = try run(topLevel: template)
                    } else {
                        try? writer?.entry(.source(file: index, position: position, line: line, column: column))
                        _ = try eval(form)
                    }
                }
            }
            if var writer, let path {
                writer.finish()
                LibraryImage.write(writer.bytes, to: path)
            }
        } catch let e as SchemeError {
            throw report(e)
        }
    }

    /// The image's entries, decoded (nothing run yet), or nil when there is
    /// no usable image at `path`.
    private func readImage(_ path: String, key: UInt64) -> [LibraryImage.Entry]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            guard var decoder = try LibraryImage.Decoder(bytes: [UInt8](data), key: key, interp: self) else { return nil }
            return try decoder.entries()
        } catch {
            return nil
        }
    }

    /// Runs an image's entries in order.
    private func run(_ entries: [LibraryImage.Entry], _ sources: [LibraryImage.Source]) throws {
        // The decoded templates are reached only from here until they run:
        // rooted, so that a collection while an earlier one runs keeps them.
        let mark = permanent.count
        for case .compiled(let t) in entries { permanent.append(Value(object: t)) }
        defer { permanent.removeSubrange(mark...) }
        // An array, not a dictionary keyed by Int: see CodeGenerator.constantIndex.
        var scalars = [[Unicode.Scalar]?](repeating: nil, count: sources.count)
        for entry in entries {
            switch entry {
            case .compiled(let template):
                _ = try run(topLevel: template)
            case .source(let file, let position, let line, let column):
                guard file >= 0, file < sources.count else { throw SchemeError(.error, "library image: no source \(file)") }
                let text = scalars[file] ?? Array(sources[file].text.unicodeScalars)
                scalars[file] = text
                guard position >= 0, position <= text.count else { throw SchemeError(.error, "library image: bad position") }
                var reader = Reader(scalars: text, position: position, line: line, column: column,
                                    fileID: sourceFiles.id(for: sources[file].name), interp: self)
                guard let form = try reader.read() else { throw SchemeError(.error, "library image: no form at \(position)") }
                _ = try eval(form)
            }
        }
    }
}

extension LibraryImage {
    /// Writes an image file whole or not at all (a temporary file renamed
    /// over it): another process starting at the same time reads the old
    /// image or the new one. A failure (a read-only cache) only costs the
    /// next start its speed.
    static func write(_ bytes: [UInt8], to path: String) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid())")
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: temporary)
            guard rename(temporary.path, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
        }
    }
}
