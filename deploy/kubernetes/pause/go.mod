module a2a-deploy/k8s-pause

go 1.22
