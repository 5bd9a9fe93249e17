# SPDX-License-Identifier: GPL-2.0-only
# bash completion for podwallctl: command words at every level, each command's
# options, and local pods (from podwallctl endpoints) where NS/POD is expected.

_podwallctl_pods()
{
	podwallctl endpoints 2>/dev/null | awk 'NR > 1 { print $2 }'
}

_podwallctl()
{
	local cur prev words cword
	_init_completion || return

	local top="policy status endpoints flows drops rules inspect ips dos blocklist ratelimit captures help"
	local global="-j --json -p --pretty -v --verbose -h --help"
	local i cmd="" sub="" ncmd=0
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=${words[i]}
			elif [[ -z $sub ]]; then
				sub=${words[i]}
			fi
			((ncmd++))
			;;
		esac
	done

	case $prev in
	--pod)
		COMPREPLY=($(compgen -W "$(_podwallctl_pods)" -- "$cur"))
		return
		;;
	--verdict)
		COMPREPLY=($(compgen -W "allowed denied audit-denied" -- "$cur"))
		return
		;;
	--format)
		COMPREPLY=($(compgen -W "text json dot" -- "$cur"))
		return
		;;
	--proto)
		COMPREPLY=($(compgen -W "TCP UDP SCTP" -- "$cur"))
		return
		;;
	--owner)
		COMPREPLY=($(compgen -W "operator ips auto" -- "$cur"))
		return
		;;
	-f | --file | --rules | --pcap | --eve | --classification | -c | -d | --dir | \
		--pin-root | -s | --socket)
		_filedir
		return
		;;
	--window)
		COMPREPLY=($(compgen -W "1m 5m 15m 1h" -- "$cur"))
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$top $global" -- "$cur"))
		return
	fi
	local subs="" opts="-j --json -p --pretty -h --help"
	case $cmd in
	policy)
		subs="test explain matrix show help"
		case $sub in
		show)
			[[ $cur != -* ]] && COMPREPLY=($(compgen -W "$(_podwallctl_pods) help" -- "$cur")) &&
				return
			opts+=" -s --socket"
			;;
		explain) opts+=" -f --file --from --to --port --proto --node --node-ip --engine" ;;
		matrix) opts+=" -f --file --port --proto --format --node --node-ip --engine" ;;
		test) opts+=" --engine" ;;
		esac
		;;
	status | endpoints) opts+=" -s --socket" ;;
	flows) opts+=" --pod --namespace --verdict --follow --limit -s --socket" ;;
	drops) opts+=" --window --top -s --socket" ;;
	rules) subs="check help"; opts+=" -c -l" ;;
	inspect)
		opts+=" --pcap --rules --eve --simulate-ips --midstream --classification --set --iface --no-ndpi"
		;;
	dos) subs="status help"; opts+=" --top --pin-root" ;;
	blocklist) subs="add del list help"; opts+=" --ttl --owner --exempt --pin-root" ;;
	ratelimit)
		subs="set off list help"
		opts+=" --pod --pps --bandwidth --burst --burst-bytes --src-prefix --auto-block-after"
		opts+=" --auto-block-ttl --syn-rate --syn-burst --verified-ttl --pin-root"
		;;
	captures) opts+=" -d --dir --pod" ;;
	ips) subs="blocks unblock help"; opts+=" --pin-root" ;;
	esac
	if [[ -n $subs && -z $sub && $cur != -* ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [[ -z $subs && $ncmd -le 1 ]]; then
		COMPREPLY=($(compgen -W "help" -- "$cur"))
		_filedir
	else
		_filedir
	fi
}
complete -F _podwallctl podwallctl
