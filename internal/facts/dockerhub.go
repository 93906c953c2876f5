package facts

// Docker Hub's pull rate limit for unauthenticated pulls, which every node
// makes: 10 pulls an hour per IPv4 address or IPv6 /64 subnet (docker/docs
// content/manuals/docker-hub/usage/_index.md, "Unauthenticated users", as
// of docker/docs#22134, 2025). A pull is one manifest request: a single-
// platform pull of a multi-arch image counts once, `docker plugin install`
// counts like a pull, and an image the daemon already holds costs nothing
// (content/manuals/docker-hub/usage/pulls.md, "Pull definition"). Each node
// has its own public address, so its boot's pulls must fit in the hour on
// their own; userdata's boot tests hold every role to it.
const DockerHubAnonymousPullsPerHour = 10

// DockerHubRateLimitCode is how the daemon reports a pull refused by that
// limit: the registry answers 429 with the error code TOOMANYREQUESTS, and
// docker prints it lower-cased before its message, "toomanyrequests: You
// have reached your unauthenticated pull rate limit.
// https://www.docker.com/increase-rate-limit" (distribution/distribution
// registry/api/errcode/errors.go, ErrorCode.Error and Error.Error; the
// message as Docker Hub sends it, docker/docs pulls.md). Retrying within
// the hour only adds requests, so the boot stops at once with the fix.
const DockerHubRateLimitCode = "toomanyrequests"
