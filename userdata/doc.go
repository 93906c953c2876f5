// Package userdata renders the cloud-init user data of marathon-ha's nodes
// from plain Go inputs: a single #cloud-config document per node whose
// write_files carry small boot scripts and systemd units, and whose runcmd
// runs the boot once.
//
// The master runs ZooKeeper, the Mesos master, Marathon and (volume driver
// flocker) the Flocker control service; an agent runs the Mesos agent and
// either Flocker's dataset agent and Docker plugin or REX-Ray's rexray/ebs
// plugin. Every service is a pinned container image run by Docker under a
// systemd unit, because the 2015 apt repositories are gone. Certificates and
// keys never appear in the user data: the boot reads them from SSM Parameter
// Store with the instance role.
//
// The scripts write every absolute path under $MHA_ROOT (empty on a node) and
// call every program by name, so the tests run them in a scratch root against
// recording fakes.
package userdata
