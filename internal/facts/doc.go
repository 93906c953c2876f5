// Package facts holds the values that several parts of marathon-ha must agree
// on: ports, pinned versions, failure-detection timings, tag keys and names.
// The Pulumi components, the cloud-init templates, the Marathon manifest, the
// operator tools and the recovery budget all read them from here, so a change
// is made once. Each value cites where it comes from.
package facts
