import Foundation
import LinearAlgebra
@testable import OutputFolder
@testable import RiskReport
import Testing

@Suite struct ReportWriterTests {
    @Test func formulaCellsAreNeutralisedAndNumbersStayNumbers() {
        #expect(CSVText.neutralised("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")")
        #expect(CSVText.neutralised("+1") == "'+1")
        #expect(CSVText.neutralised("-acct") == "'-acct")
        #expect(CSVText.neutralised("@SUM") == "'@SUM")
        #expect(CSVText.neutralised("acct-1") == "acct-1")
        #expect(CSVText.neutralised("") == "")
        let columns: [Column<Int>] = [
            Column("id", unit: "text", meaning: "an id") { .text(["=1+1", "a,b", "say \"hi\"", "line\nbreak"][$0]) },
            Column("value", unit: "USD", meaning: "a number") { .number([-1.5, 1e-05, .nan, 100][$0]) },
            Column("count", unit: "count", meaning: "a count") { .integer($0) },
            Column("later", unit: "USD", meaning: "never computed") { _ in .empty },
        ]
        let text = String(decoding: CSVWriter.render(columns: columns, rows: 0 ..< 4), as: UTF8.self)
        let expected = [
            "id,value,count,later",
            "'=1+1,-1.5,0,",
            "\"a,b\",1e-05,1,",
            "\"say \"\"hi\"\"\",,2,",
            "\"line\nbreak\",100.0,3,",
        ].joined(separator: "\n") + "\n"
        #expect(text == expected)
    }

    @Test func numbersRoundTripExactly() {
        var values: [Double] = [0.1, 1.0 / 3, 123456789.123456789, .leastNonzeroMagnitude, 1.7976931348623157e308, -0.0, 2.5e-8]
        var state: UInt64 = 1
        for _ in 0 ..< 1000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            values.append(Double(bitPattern: state >> 2) )
        }
        let finite = values.filter(\.isFinite)
        let columns: [Column<Double>] = [Column("x", unit: "USD", meaning: "the row") { .number($0) }]
        let lines = String(decoding: CSVWriter.render(columns: columns, rows: finite), as: UTF8.self).split(separator: "\n").dropFirst()
        for (line, value) in zip(lines, finite) { #expect(Double(String(line))!.bitPattern == value.bitPattern) }
    }

    @Test func jsonEscapesTextAndWritesNullForNonFinite() {
        let value: JSONValue = .object([
            ("id", .string("<script>\"&\n")),
            ("nan", .finite(.nan)),
            ("x", .number(0.25)),
            ("list", .array([.integer(1), .bool(true), .null])),
            ("empty", .object([])),
        ])
        let expected = [
            "{",
            #"  "id": "\u003cscript\u003e\"\u0026\n","#,
            #"  "nan": null,"#,
            #"  "x": 0.25,"#,
            #"  "list": ["#,
            "    1,", "    true,", "    null",
            "  ],",
            #"  "empty": {}"#,
            "}",
        ].joined(separator: "\n") + "\n"
        #expect(value.rendered() == expected)
        let parsed = try? JSONSerialization.jsonObject(with: Data(value.rendered().utf8)) as? [String: Any]
        #expect(parsed?["id"] as? String == "<script>\"&\n")
    }

    @Test func reportFolderReplacesOnlyOnCommit() throws {
        let base = try CLI.temporaryDirectory("folder")
        let destination = base.appendingPathComponent("report")
        let first = try ReportFolder(destination: destination)
        try first.write("one", to: "a.txt")
        try first.commit()
        let second = try ReportFolder(destination: destination)
        try second.write("two", to: "a.txt")
        #expect(try String(contentsOf: destination.appendingPathComponent("a.txt"), encoding: .utf8) == "one")
        second.discard()
        #expect(try String(contentsOf: destination.appendingPathComponent("a.txt"), encoding: .utf8) == "one")
        let third = try ReportFolder(destination: destination)
        try third.write("three", to: "a.txt")
        try third.commit()
        #expect(try String(contentsOf: destination.appendingPathComponent("a.txt"), encoding: .utf8) == "three")
        #expect(try FileManager.default.contentsOfDirectory(atPath: base.path) == ["report"])
    }
}

extension ReportWriterTests {
    /// Streaming in parallel chunks gives the same bytes as rendering in one go, for any worker count.
    @Test func streamedChunksEqualTheWholeRenderForAnyWorkerCount() throws {
        let columns: [Column<Int>] = [Column("i", unit: "count", meaning: "the row") { .integer($0) },
                                      Column("x", unit: "USD", meaning: "row / 7") { .number(Double($0) / 7) },
                                      Column("t", unit: "text", meaning: "a text") { .text($0 % 3 == 0 ? "-\($0)" : "a\($0)") }]
        let count = 2 * CSVWriter.chunkRows + 123
        let whole = CSVWriter.render(columns: columns, rows: 0 ..< count)
        for workers in [1, 2, 5] {
            var streamed: [UInt8] = []
            try CSVWriter.stream(columns: columns, count: count, row: { $0 }, workers: workers) { streamed += $0 }
            #expect(streamed == whole, "workers \(workers)")
        }
    }

    /// A sink that fails (disk full) stops the stream and its error reaches the caller; nothing after it is written.
    @Test func aFailingSinkStopsTheStreamWithItsError() {
        struct DiskFull: Error {}
        let columns: [Column<Int>] = [Column("i", unit: "count", meaning: "the row") { .integer($0) }]
        let count = 40 * CSVWriter.chunkRows
        var calls = 0
        #expect(throws: DiskFull.self) {
            try CSVWriter.stream(columns: columns, count: count, row: { $0 }, workers: 2) { _ in
                calls += 1
                if calls == 3 { throw DiskFull() }
            }
        }
        #expect(calls == 3)
    }
}

extension ReportWriterTests {
    /// `DirectFile` writes exactly the bytes it is given, in order, whatever the chunk sizes (across its 8 MiB
    /// block boundary, with an unaligned tail), on a file system that takes O_DIRECT (the temporary directory) and
    /// on one that refuses it (/dev/shm, tmpfs, where present): compared with the concatenation done here.
    @Test func directFileWritesExactlyTheGivenBytes() throws {
        var rng = SplitMix64(seed: 2026)
        var chunks: [[UInt8]] = []
        var total = 0
        while total < DirectFile.capacity * 2 + 12_345 {
            let size = [0, 1, 4095, 4096, 70_001, 1 << 20, 3 << 20][rng.nextInt(below: 7)]
            let salt = rng.nextInt(below: 251)
            chunks.append((0 ..< size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ salt &+ chunks.count) })
            total += size
        }
        let expected = chunks.flatMap { $0 }
        var folders = [FileManager.default.temporaryDirectory]
        if FileManager.default.fileExists(atPath: "/dev/shm") { folders.append(URL(fileURLWithPath: "/dev/shm")) }
        for folder in folders {
            let path = folder.appendingPathComponent("ballast-directfile-\(getpid()).bin").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let file = try DirectFile(path: path)
            for chunk in chunks { try file.append(chunk) }
            try file.finish()
            let written = try #require(FileManager.default.contents(atPath: path))
            #expect(written.count == expected.count, "\(folder.path)")
            #expect(Array(written) == expected, "\(folder.path)")
        }
    }
}
