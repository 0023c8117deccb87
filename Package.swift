// swift-tools-version:6.0
import PackageDescription

// The layout follows the pipeline: each stage is one module and depends only
// on the stages before it.
//
//   trace bytes -> TraceFormat -> Replay -> Checks -> Reports -> hitless (CLI)
let package = Package(
    name: "hitless",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hitless", targets: ["hitless"]),
        .library(name: "TraceFormat", targets: ["TraceFormat"]),
        .library(name: "Replay", targets: ["Replay"]),
        .library(name: "Checks", targets: ["Checks"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "TraceGenerator", targets: ["TraceGenerator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
        ),
        .target(name: "TraceFormat", dependencies: ["CZstd"]),
        .target(name: "Replay", dependencies: ["TraceFormat"]),
        .target(name: "TraceGenerator", dependencies: ["TraceFormat"]),
        .target(name: "Checks", dependencies: ["TraceFormat", "Replay"]),
        .target(name: "Reports", dependencies: ["TraceFormat", "Replay", "Checks"]),
        .executableTarget(
            name: "hitless",
            dependencies: [
                "TraceFormat", "Replay", "Checks", "Reports", "TraceGenerator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Finds and runs the built `hitless` binary for the tests that need
        // it (`swift test` builds it first).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TraceFormatTests", dependencies: ["TraceFormat", "TraceGenerator", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "TraceFormat", "TraceGenerator"]),
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "Reports", "TraceGenerator", "TestSupport"]),
        // Hostile/ holds the hostile corpus and what each file must give.
        .testTarget(name: "HostileTests", dependencies: ["TraceFormat", "Replay", "Checks", "TestSupport"], exclude: ["Hostile", "make-hostile.py"]),
        // Resources/ holds the official SARIF 2.1.0 schema the tests validate against.
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Checks", "Replay", "TraceFormat", "TraceGenerator", "TestSupport"],
                    exclude: ["Resources"]),
    ]
)
