import Foundation

/// A real PostgreSQL server for a test: `initdb` into a temporary directory,
/// `pg_ctl start` on a free port on 127.0.0.1 (as the unprivileged `postgres`
/// or `nobody` user when the tests run as root — PostgreSQL refuses root),
/// trust authentication for the `omega` user, and `stop()` to end it.
final class PostgresServer {
    let port: Int
    let directory: URL
    private let binaries: URL
    private let runAs: String?

    /// The URL of the server's `postgres` database.
    var url: String { "postgres://omega@127.0.0.1:\(port)/postgres" }

    /// Where Debian keeps the server programs (`/usr/lib/postgresql/N/bin`),
    /// else the directory of `initdb` on the PATH; nil when not installed.
    static var installedBinaries: URL? {
        let fm = FileManager.default
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        if let v = versions.last {
            let dir = URL(fileURLWithPath: "/usr/lib/postgresql/\(v)/bin")
            if fm.isExecutableFile(atPath: dir.appendingPathComponent("initdb").path) { return dir }
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = URL(fileURLWithPath: String(dir))
            if fm.isExecutableFile(atPath: path.appendingPathComponent("initdb").path) {
                return path.appendingPathComponent("initdb").resolvingSymlinksInPath().deletingLastPathComponent()
            }
        }
        return nil
    }

    init() throws {
        guard let binaries = PostgresServer.installedBinaries else {
            throw ServerError("PostgreSQL is not installed (scripts/setup installs Debian's postgresql)")
        }
        self.binaries = binaries
        port = try PostgresServer.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("omega-pg-\(getpid())-\(port)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            let user = PostgresServer.userExists("postgres") ? "postgres" : "nobody"
            runAs = user
            try run("/bin/chown", ["-R", user, directory.path], asRoot: true)
        } else {
            runAs = nil
        }
        let data = directory.appendingPathComponent("data").path
        try run(binaries.appendingPathComponent("initdb").path,
                ["-D", data, "-U", "omega", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        try run(binaries.appendingPathComponent("pg_ctl").path,
                ["-D", data, "-l", directory.appendingPathComponent("log").path, "-w", "-t", "60", "-o",
                 "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
                 "start"])
    }

    /// Stops the server at once and removes its files.
    func stop() {
        let data = directory.appendingPathComponent("data").path
        _ = try? run(binaries.appendingPathComponent("pg_ctl").path, ["-D", data, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    struct ServerError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// Runs a server program (as the unprivileged user when root), with
    /// `runProcess` (posix_spawn and waitpid): Foundation's `Process` missed
    /// the exit of a command that leaves a daemon behind (pg_ctl start).
    @discardableResult
    private func run(_ program: String, _ arguments: [String], asRoot: Bool = false) throws -> String {
        let command = runAs != nil && !asRoot ? ["/usr/sbin/runuser", "-u", runAs ?? "", "--", program] + arguments
                                              : [program] + arguments
        let r = try runProcess(URL(fileURLWithPath: command[0]), Array(command.dropFirst()), timeout: 120)
        guard r.status == 0 else {
            throw ServerError("\(program) \(arguments.joined(separator: " ")) failed (\(r.status)): \((r.stdout + r.stderr).suffix(600))")
        }
        return r.stdout
    }

    private static func userExists(_ name: String) -> Bool { getpwnam(name) != nil }

    /// A port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ServerError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
