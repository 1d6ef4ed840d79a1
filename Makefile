# The two commands of the README, plus the pieces they are made of.
.PHONY: dev test emulator bench fuzz package measure

dev: ## the whole service locally: emulated AWS, every function, a demo project with live traffic
	bash dev/stack.sh dev

test: ## lint, template check, emulator self-test, unit and integration tests
	bash dev/stack.sh test

emulator: ## the emulated AWS alone, in the foreground
	bash dev/stack.sh emulator

bench: ## verify + parse + build-the-write throughput, then a load test of the local stack (deliveries/s, latency, WRU per event)
	bash dev/stack.sh bench

fuzz: ## the parsers' property tests (run 10,000 cases each by `make test`) with a million each, in release
	PROPTEST_CASES=1000000 cargo test --release -p ingest -p onboarding --lib proptests

package: ## every function for arm64 in one cargo-lambda build, laid out for `sam deploy`
	bash dev/package.sh

measure: ## each function's zip size and start-up time (make package, then a native build spawned against a fake Runtime API)
	bash dev/measure-functions.sh
