// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The floor of the per-packet bench: a TC program that only returns. Its
 * BPF_PROG_TEST_RUN time, measured in the same run as the datapath's, is the
 * fixed cost of a program invocation (the test-run loop, bh disable/enable,
 * the call) that every per-packet figure contains.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int trivial(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}
